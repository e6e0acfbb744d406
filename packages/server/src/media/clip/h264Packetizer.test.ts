import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAL_TYPE } from '../../rtp/h264.js';
import { MAX_RTP_PAYLOAD, groupAccessUnits, packetizeAccessUnit, splitAnnexB } from './h264Packetizer.js';

const sps = Buffer.from('6742c01ed900a02ff97011000003000100000300320f162e48', 'hex');
const pps = Buffer.from('68ce3c80', 'hex');
const sei = Buffer.from('06050102', 'hex');
const idr = (n: number): Buffer => Buffer.concat([Buffer.from([0x65, 0x88]), Buffer.alloc(n, 0xab)]);
const pSlice = (firstMbZero: boolean, n = 10): Buffer => Buffer.concat([Buffer.from([0x41, firstMbZero ? 0x9a : 0x1a]), Buffer.alloc(n, 0x11)]);

test('splitAnnexB: 3- and 4-byte start codes, trailing zeros, leading garbage', () => {
  const stream = Buffer.concat([
    Buffer.from([0xff, 0, 0, 0, 1]),
    sps,
    Buffer.from([0, 0, 1]),
    pps,
    Buffer.from([0, 0, 0, 0, 0, 1]),
    idr(5),
    Buffer.from([0, 0]),
  ]);
  assert.deepEqual(splitAnnexB(stream), [sps, pps, idr(5)]);
  assert.deepEqual(splitAnnexB(Buffer.alloc(0)), []);
  assert.deepEqual(splitAnnexB(Buffer.from([0, 0, 1])), []);
});

test('groupAccessUnits: parameter sets open a unit, first_mb_in_slice 0 opens a picture', () => {
  const slice2 = Buffer.from([0x41, 0x5a, 0x00]); // first_mb_in_slice != 0: same picture
  const units = groupAccessUnits([sei, sps, pps, idr(3), pSlice(true), slice2, pSlice(true), sps, pps, idr(4)]);
  assert.equal(units.length, 4);
  assert.deepEqual(units.map((u) => u.idr), [true, false, false, true]);
  assert.deepEqual(units.map((u) => u.nals.length), [4, 2, 1, 3]);
});

test('packetizeAccessUnit: single NALs pass through, big NALs become balanced FU-A', () => {
  const big = idr(5000);
  const payloads = packetizeAccessUnit([sps, pps, big]);
  assert.deepEqual(payloads[0], sps);
  assert.deepEqual(payloads[1], pps);
  const frags = payloads.slice(2);
  assert.equal(frags.length, Math.ceil((big.length - 1) / (MAX_RTP_PAYLOAD - 2)));
  const sizes = frags.map((f) => f.length);
  assert.ok(Math.max(...sizes) <= MAX_RTP_PAYLOAD);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes.join(',')}`);
  frags.forEach((f, i) => {
    assert.equal(f[0]! & 0x1f, NAL_TYPE.FU_A);
    assert.equal(f[0]! & 0xe0, big[0]! & 0xe0, 'F and NRI copied');
    assert.equal(f[1]! & 0x1f, NAL_TYPE.IDR);
    assert.equal((f[1]! & 0x80) !== 0, i === 0, 'start bit');
    assert.equal((f[1]! & 0x40) !== 0, i === frags.length - 1, 'end bit');
  });
  const rebuilt = Buffer.concat([Buffer.from([(frags[0]![0]! & 0xe0) | (frags[0]![1]! & 0x1f)]), ...frags.map((f) => f.subarray(2))]);
  assert.deepEqual(rebuilt, big);
  // exactly at the limit: still a single NAL packet
  assert.equal(packetizeAccessUnit([idr(MAX_RTP_PAYLOAD - 2)]).length, 1);
  assert.equal(packetizeAccessUnit([idr(MAX_RTP_PAYLOAD - 1)]).length, 2);
});
