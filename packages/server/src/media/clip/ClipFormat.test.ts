import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NAL_TYPE, findSps, parseSps } from '../../rtp/h264.js';
import { type Clip, type ClipPacket, ClipFormatError, loadClip, readClip, writeClip } from './ClipFormat.js';

const DEMO = fileURLToPath(new URL('../../../assets/demo.sclip', import.meta.url));

const sps = Buffer.from('6742c01ed900a02ff97011000003000100000300320f162e48', 'hex');

/** 200 ms: 5 video frames (IDR first), 10 opus and 10 PCMU packets. */
function tinyClip(): Clip {
  const packets: ClipPacket[] = [];
  for (let f = 0; f < 5; f++) {
    packets.push({ track: 0, marker: false, keyframe: f === 0, timestamp: f * 3600, payload: f === 0 ? sps : Buffer.from([0x41, f]) });
    packets.push({ track: 0, marker: true, keyframe: false, timestamp: f * 3600, payload: Buffer.from([f === 0 ? 0x65 : 0x41, 0x88, f]) });
  }
  for (let k = 0; k < 10; k++) packets.push({ track: 1, marker: false, keyframe: false, timestamp: k * 960, payload: Buffer.from([0x78, k]) });
  for (let k = 0; k < 10; k++) packets.push({ track: 2, marker: false, keyframe: false, timestamp: k * 160, payload: Buffer.alloc(160, k) });
  return {
    durationMs: 200,
    tracks: [
      { kind: 'video', codec: 'H264', clockRate: 90000, channels: 0 },
      { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
      { kind: 'audio', codec: 'PCMU', clockRate: 8000, channels: 1 },
    ],
    packets,
  };
}

const timeMs = (c: Clip, p: ClipPacket): number => (p.timestamp * 1000) / c.tracks[p.track]!.clockRate;

test('round trip: writeClip sorts into send order, readClip returns the same packets', () => {
  const clip = tinyClip();
  const back = readClip(writeClip(clip));
  assert.equal(back.durationMs, 200);
  assert.deepEqual(back.tracks, clip.tracks);
  assert.equal(back.packets.length, clip.packets.length);
  for (let i = 1; i < back.packets.length; i++) {
    assert.ok(timeMs(back, back.packets[i]!) >= timeMs(back, back.packets[i - 1]!));
  }
  // per track, order and content are preserved
  for (let t = 0; t < 3; t++) {
    assert.deepEqual(
      back.packets.filter((p) => p.track === t),
      clip.packets.filter((p) => p.track === t),
    );
  }
});

/** Independent CRC-32 (zlib's) so the test does not trust the code under test. */
function crc32(body: Buffer): number {
  let crc = 0xffffffff;
  for (const b of body) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Recomputes the trailing CRC so structural checks, not the CRC, are what rejects a file. */
function withCrc(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

test('corrupt or invalid files are rejected with ClipFormatError', () => {
  const good = writeClip(tinyClip());
  assert.equal(good.readUInt32BE(good.length - 4), crc32(good.subarray(0, good.length - 4)), 'trailer is zlib CRC-32');
  const firstRecord = 16 + 3 * 8;
  const mutate = (fn: (b: Buffer) => void, crc = true): Buffer => {
    const b = Buffer.from(good);
    fn(b);
    return crc ? withCrc(b) : b;
  };
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['short', good.subarray(0, 10)],
    ['bad magic', mutate((b) => b.write('SCLQ', 0, 'latin1'))],
    ['version 2', mutate((b) => (b[4] = 2))],
    ['no tracks', mutate((b) => (b[5] = 0))],
    ['too many tracks', mutate((b) => (b[5] = 200))],
    ['reserved header', mutate((b) => (b[6] = 1))],
    ['duration 0', mutate((b) => b.writeUInt32BE(0, 8))],
    ['huge packet count', mutate((b) => b.writeUInt32BE(0xffffffff, 12))],
    ['packet count + 1', mutate((b) => b.writeUInt32BE(b.readUInt32BE(12) + 1, 12))],
    ['packet count - 1', mutate((b) => b.writeUInt32BE(b.readUInt32BE(12) - 1, 12))],
    ['bit flip, CRC kept', mutate((b) => (b[firstRecord + 20] ^= 1), false)],
    ['truncated', withCrc(Buffer.concat([good.subarray(0, good.length - 50), Buffer.alloc(4)]))],
    ['trailing byte', withCrc(Buffer.concat([good.subarray(0, good.length - 4), Buffer.alloc(5)]))],
    ['codec/kind mismatch', mutate((b) => (b[16 + 1] = 1))],
    ['unknown codec', mutate((b) => (b[16 + 1] = 9))],
    ['wrong clock rate', mutate((b) => b.writeUInt32BE(8000, 16 + 4))],
    ['wrong channels', mutate((b) => (b[16 + 8 + 2] = 1))],
    ['track index out of range', mutate((b) => (b[firstRecord] = 7))],
    ['unknown flag', mutate((b) => (b[firstRecord + 1] |= 0x80))],
    ['video does not start with keyframe', mutate((b) => (b[firstRecord + 1] &= ~2))],
    ['payload length 0', mutate((b) => b.writeUInt16BE(0, firstRecord + 6))],
    ['payload length past end', mutate((b) => b.writeUInt16BE(0xffff, firstRecord + 6))],
    ['timestamp outside the loop', mutate((b) => b.writeUInt32BE(18000, firstRecord + 2))],
  ];
  for (const [label, buf] of cases) assert.throws(() => readClip(buf), ClipFormatError, label);
});

test('writeClip refuses invalid clips', () => {
  const base = tinyClip();
  const bad: Array<[string, Clip]> = [
    ['payload too big', { ...base, packets: [...base.packets, { track: 1, marker: false, keyframe: false, timestamp: 0, payload: Buffer.alloc(1189) }] }],
    ['keyframe on audio', { ...base, packets: [...base.packets, { track: 1, marker: false, keyframe: true, timestamp: 0, payload: Buffer.alloc(3) }] }],
    ['empty track', { ...base, packets: base.packets.filter((p) => p.track !== 2) }],
    ['fractional duration', { ...base, durationMs: 200.5 }],
  ];
  for (const [label, clip] of bad) assert.throws(() => writeClip(clip), ClipFormatError, label);
});

test('random garbage and random truncations never throw anything but ClipFormatError', () => {
  const good = writeClip(tinyClip());
  let s = 99;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(good.subarray(0, Math.floor(rnd() * good.length)));
    for (let k = 0; k < 3 && b.length > 0; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const candidate = i % 2 && b.length >= 4 ? withCrc(b) : b;
    try {
      readClip(candidate);
    } catch (err) {
      assert.ok(err instanceof ClipFormatError, String(err));
    }
  }
});

test('the committed demo.sclip: 20 s, 640x360 SPS, IDR exactly every 10 s, within size budget', () => {
  assert.ok(statSync(DEMO).size <= 3 * 1024 * 1024, 'demo.sclip must stay <= 3 MB');
  const clip = loadClip(DEMO);
  assert.equal(clip.durationMs, 20000);
  assert.deepEqual(
    clip.tracks.map((t) => t.codec),
    ['H264', 'opus', 'PCMU', 'PCMA'],
  );
  const video = clip.packets.filter((p) => p.track === 0);
  const first = video[0]!;
  const spsNal = findSps(first.payload, 0, first.payload.length);
  assert.ok(spsNal, 'first video packet is the SPS');
  const info = parseSps(spsNal);
  assert.equal(info.width, 640);
  assert.equal(info.height, 360);
  assert.equal(info.profileIdc, 66);
  assert.ok(info.constraintFlags & 0x40, 'constrained baseline (constraint_set1)');

  const keyframes = video.filter((p) => p.keyframe);
  assert.deepEqual(
    keyframes.map((p) => p.timestamp),
    [0, 900000],
  );
  for (const k of keyframes) {
    // SPS, PPS as single NAL packets, then the IDR (single NAL or FU-A start)
    const i = video.indexOf(k);
    assert.equal(video[i]!.payload[0]! & 0x1f, NAL_TYPE.SPS);
    assert.equal(video[i + 1]!.payload[0]! & 0x1f, NAL_TYPE.PPS);
    const idr = video[i + 2]!.payload;
    const t = idr[0]! & 0x1f;
    assert.ok(t === NAL_TYPE.IDR || (t === NAL_TYPE.FU_A && (idr[1]! & 0x9f) === (0x80 | NAL_TYPE.IDR)));
  }
  const frames = new Set(video.map((p) => p.timestamp));
  assert.equal(frames.size, 500, '25 fps for 20 s');
  assert.equal(video.filter((p) => p.marker).length, 500, 'one marker per access unit');
  for (const [idx, p] of video.entries()) {
    const next = video[idx + 1];
    assert.equal(p.marker, next === undefined || next.timestamp !== p.timestamp, `marker ends frame at ${p.timestamp}`);
    assert.ok(p.payload.length <= 1188);
  }
  for (const [track, step, size] of [
    [1, 960, undefined],
    [2, 160, 160],
    [3, 160, 160],
  ] as const) {
    const pk = clip.packets.filter((p) => p.track === track);
    assert.equal(pk.length, 1000);
    pk.forEach((p, k) => {
      assert.equal(p.timestamp, k * step);
      if (size) assert.equal(p.payload.length, size);
    });
  }
});
