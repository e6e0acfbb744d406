import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_NACK_SEQS,
  buildLegacyFir,
  buildPli,
  buildReceiverReport,
  buildReceiverReportPliCompound,
  buildSenderReport,
  parseRtcpFeedback,
} from './rtcp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// keyframe-on-demand.md §3: packets baresip reacted to, validated by tshark and libre.
const RR_WITH_BLOCK = '81c90007 6b660001 fda5a688 00000000 00002be4 000001bf 63965749 0003c7db';
const SDES = '81ca0006 6b660001 01106b66 2d756163 40313237 2e302e30 2e310000';
const PLI = '81ce0002 6b660001 fda5a688';
const FIR_5104 = '84ce0004 6b660001 00000000 fda5a688 01000000';
const FIR_LEGACY = '80c00001 fda5a688';
const NACK = '81cd0003 6b660001 fda5a688 63560000';

/** REMB as Chromium sends it: PSFB FMT 15, media SSRC 0, "REMB", N SSRCs, exp/mantissa. */
function remb(sender: number, bitrate: number, ssrcs: number[]): Buffer {
  let exp = 0;
  let mantissa = bitrate;
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  const buf = Buffer.alloc(20 + ssrcs.length * 4);
  buf.writeUInt32BE(((0x8fce << 16) | (buf.length / 4 - 1)) >>> 0, 0);
  buf.writeUInt32BE(sender, 4);
  buf.write('REMB', 12, 'latin1');
  buf[16] = ssrcs.length;
  buf[17] = (exp << 2) | (mantissa >> 16);
  buf.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((s, i) => buf.writeUInt32BE(s, 20 + i * 4));
  return buf;
}

test('§3 (a) RR+SDES+PLI compound parses as PLI', () => {
  const fb = parseRtcpFeedback(hex(RR_WITH_BLOCK + SDES + PLI));
  assert.deepEqual(fb, { pli: true, fir: false, nackSeqs: [], senderSsrc: 0x6b660001 });
  assert.deepEqual(parseRtcpFeedback(hex(PLI)), { pli: true, fir: false, nackSeqs: [], senderSsrc: 0x6b660001 });
});

test('§3 (b) RFC 5104 FIR, (b\') legacy FIR and NACK compounds', () => {
  assert.equal(parseRtcpFeedback(hex(RR_WITH_BLOCK + SDES + FIR_5104))?.fir, true);
  const legacy = parseRtcpFeedback(hex(RR_WITH_BLOCK + SDES + FIR_LEGACY));
  assert.equal(legacy?.fir, true);
  assert.equal(legacy?.pli, false);
  assert.equal(parseRtcpFeedback(hex(FIR_LEGACY))?.senderSsrc, 0);
  assert.deepEqual(parseRtcpFeedback(hex(RR_WITH_BLOCK + SDES + NACK))?.nackSeqs, [0x6356]);
});

test('builders reproduce the §3 layouts byte for byte', () => {
  const cname = 'kf-uac@127.0.0.1';
  assert.equal(buildPli(0x6b660001, 0xfda5a688).toString('hex'), hex(PLI).toString('hex'));
  assert.equal(buildLegacyFir(0xfda5a688).toString('hex'), hex(FIR_LEGACY).toString('hex'));
  const rr = buildReceiverReport(0x6b660001, cname);
  assert.equal(rr.toString('hex'), hex('80c90001 6b660001' + SDES).toString('hex'));
  const compound = buildReceiverReportPliCompound(0x6b660001, 0xfda5a688, cname);
  assert.equal(compound.toString('hex'), hex('80c90001 6b660001' + SDES + PLI).toString('hex'));
  assert.deepEqual(parseRtcpFeedback(compound), { pli: true, fir: false, nackSeqs: [], senderSsrc: 0x6b660001 });
  const firCompound = parseRtcpFeedback(Buffer.concat([rr, buildLegacyFir(0xfda5a688)]));
  assert.equal(firCompound?.fir, true);
  assert.equal(parseRtcpFeedback(rr)?.pli, false);
});

test('SDES CNAME padding and truncation', () => {
  for (let n = 0; n < 12; n++) {
    const rr = buildReceiverReport(1, 'x'.repeat(n));
    assert.equal(rr.length % 4, 0);
    assert.ok(rr.length >= 8 + 4 + 4 + 2 + n + 1, `room for END byte at n=${n}`);
    assert.ok(parseRtcpFeedback(rr));
  }
  const long = buildReceiverReport(1, 'é'.repeat(200)); // 400 bytes of UTF-8
  assert.equal(long[8 + 9], 254, 'cut on a character boundary at or below 255 bytes');
  assert.ok(parseRtcpFeedback(long));
});

test('Chromium-like compounds: RR+REMB+PLI and RR+NACK', () => {
  const chromeRr = hex('81c90007 00000001 11111111 00000000 00001234 00000010 00000000 00000000');
  const fb = parseRtcpFeedback(Buffer.concat([chromeRr, remb(1, 1_234_567, [0x11111111]), buildPli(1, 0x11111111)]));
  assert.ok(fb);
  assert.equal(fb.pli, true);
  assert.equal(fb.senderSsrc, 1);
  assert.ok(fb.remb !== undefined && Math.abs(fb.remb - 1_234_567) <= 8, `remb ${fb.remb}`);

  const nack = hex('81cd0004 00000001 11111111 fffe8001 00100000');
  const fb2 = parseRtcpFeedback(Buffer.concat([chromeRr, nack]));
  assert.deepEqual(fb2?.nackSeqs, [0xfffe, 0xffff, 0x000e, 0x0010]);
  assert.equal(fb2?.pli, false);
  assert.equal(fb2?.remb, undefined);
});

test('sender report layout', () => {
  const sr = buildSenderReport({
    ssrc: 0xdeadbeef,
    ntpTimeMs: Date.UTC(2026, 0, 1) + 500.25,
    rtpTimestamp: 2 ** 32 + 5,
    packetCount: 10,
    octetCount: 12000,
  });
  assert.equal(sr.length, 28);
  assert.equal(sr.readUInt32BE(0), 0x80c80006);
  assert.equal(sr.readUInt32BE(4), 0xdeadbeef);
  assert.equal(sr.readUInt32BE(8), Date.UTC(2026, 0, 1) / 1000 + 2208988800);
  assert.ok(Math.abs(sr.readUInt32BE(12) / 2 ** 32 - 0.50025) < 1e-6);
  assert.equal(sr.readUInt32BE(16), 5);
  assert.equal(sr.readUInt32BE(20), 10);
  assert.equal(sr.readUInt32BE(24), 12000);
  assert.deepEqual(parseRtcpFeedback(sr), { pli: false, fir: false, nackSeqs: [], senderSsrc: 0xdeadbeef });
});

test('NACK expansion is bounded', () => {
  const n = 300;
  const pkt = Buffer.alloc(12 + n * 4);
  pkt.writeUInt32BE(((0x81cd << 16) | (pkt.length / 4 - 1)) >>> 0, 0);
  for (let i = 0; i < n; i++) pkt.writeUInt32BE(((i * 17) << 16) | 0xffff, 12 + i * 4);
  const fb = parseRtcpFeedback(pkt);
  assert.equal(fb?.nackSeqs.length, MAX_NACK_SEQS);
});

test('malformed input yields null', () => {
  const good = hex(RR_WITH_BLOCK + SDES + PLI);
  const bad: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['3 bytes', hex('81c900')],
    ['truncated compound', good.subarray(0, good.length - 4)],
    ['trailing bytes', Buffer.concat([good, hex('00')])],
    ['trailing partial header', Buffer.concat([good, hex('81ce00')])],
    ['length past end', hex('81ce0005 6b660001 fda5a688')],
    ['version 0', hex('01ce0002 6b660001 fda5a688')],
    ['RTP packet', hex('80600001 00000000 11111111')],
    ['RR claims a block it lacks', hex('81c90001 6b660001')],
    ['SR too short', hex('80c80001 6b660001')],
    ['PLI without media SSRC', hex('81ce0001 6b660001')],
    ['FIR without FCI', hex('84ce0002 6b660001 00000000')],
    ['NACK without FCI', hex('81cd0001 6b660001')],
    ['REMB with missing SSRCs', remb(1, 1000, [1, 2]).subarray(0, 24)],
    ['padding 0', hex('a1ce0002 6b660001 fda5a600')],
    ['padding too large', hex('a1ce0002 6b660001 fda5a6ff')],
    ['oversized', Buffer.concat(Array.from({ length: 200 }, () => hex(PLI)))],
  ];
  for (const [label, b] of bad) assert.equal(parseRtcpFeedback(b), null, label);
  // REMB truncation must be caught from the length field, not by reading past the packet
  const r = remb(1, 1000, [1, 2]);
  r.writeUInt16BE(4, 2);
  assert.equal(parseRtcpFeedback(r.subarray(0, 20)), null);
  // valid padding on the last packet is accepted
  assert.equal(parseRtcpFeedback(hex('a1ce0003 6b660001 fda5a688 00000004'))?.pli, true);
});

test('random garbage never throws', () => {
  let s = 12345;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const seeds = [hex(RR_WITH_BLOCK + SDES + PLI), hex(RR_WITH_BLOCK + SDES + NACK), remb(1, 5e5, [9])];
  for (let i = 0; i < 50000; i++) {
    let b: Buffer;
    if (i % 2) {
      b = Buffer.alloc(Math.floor(rnd() * 80));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length > 1) b[0] = 0x80 | (b[0]! & 0x3f);
    } else {
      b = Buffer.from(seeds[i % seeds.length]!);
      b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
    const fb = parseRtcpFeedback(b);
    if (fb) assert.ok(fb.nackSeqs.length <= MAX_NACK_SEQS);
  }
});
