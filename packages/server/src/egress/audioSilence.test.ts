import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeRtpHeader } from '../rtp/RtpHeader.js';
import { opusPacketSamples, opusSilence, silenceLeadIn, silentRtpPacket } from './audioSilence.js';

test('opus packet durations from the TOC (RFC 6716 §3.1)', () => {
  assert.equal(opusPacketSamples(Buffer.from([0xf8, 1, 2])), 960); // CELT FB 20 ms, code 0
  assert.equal(opusPacketSamples(Buffer.from([0x78, 1])), 960); // hybrid FB 20 ms
  assert.equal(opusPacketSamples(Buffer.from([2 << 3, 1])), 1920); // SILK NB 40 ms
  assert.equal(opusPacketSamples(Buffer.from([0x0b, 1])), 960); // SILK NB 20 ms, code 3, one frame
  assert.equal(opusPacketSamples(Buffer.from([(3 << 3) | 3, 2, 0, 0])), 2 * 2880); // SILK NB 60 ms x2
  assert.equal(opusPacketSamples(Buffer.from([(29 << 3) | 1, 0, 0])), 2 * 240); // CELT FB 5 ms, code 1
  assert.equal(opusPacketSamples(Buffer.alloc(0)), 0);
  assert.equal(opusPacketSamples(Buffer.from([0xfb])), 0, 'code 3 without a count byte');
});

test('silence has the same duration and stereo flag', () => {
  for (const samples of [120, 240, 480, 960, 1920, 2880, 5760, 1440]) {
    for (const stereo of [false, true]) {
      const s = opusSilence(samples, stereo);
      assert.equal(opusPacketSamples(s), samples, `${samples} ${stereo}`);
      assert.equal((s[0]! & 0x04) !== 0, stereo);
      assert.equal(s[0]! >> 3 >= 28, true, 'CELT fullband');
    }
  }
  assert.deepEqual([...opusSilence(960, false)], [0xf8, 0xff, 0xfe]);
  assert.equal(opusPacketSamples(opusSilence(0, false)), 960, 'unknown duration: 20 ms');
});

function rtp(payload: number[], padding = 0): Buffer {
  const b = Buffer.alloc(12 + payload.length + padding);
  writeRtpHeader(b, { payloadType: 111, marker: false, seq: 7, timestamp: 1234, ssrc: 99 });
  Buffer.from(payload).copy(b, 12);
  if (padding) {
    b[0] = b[0]! | 0x20;
    b[b.length - 1] = padding;
  }
  return b;
}

test('silentRtpPacket keeps the header, replaces the payload, drops padding', () => {
  const orig = rtp([0xfc, 1, 2, 3, 4, 5], 4); // CELT FB 20 ms stereo
  const s = silentRtpPacket(orig, 'opus')!;
  assert.deepEqual(s.subarray(1, 12), orig.subarray(1, 12));
  assert.equal(s[0]! & 0x20, 0);
  assert.deepEqual([...s.subarray(12)], [0xfc, 0xff, 0xfe]);
  const u = silentRtpPacket(rtp(Array(160).fill(0x12)), 'PCMU')!;
  assert.equal(u.length, 172);
  assert.ok(u.subarray(12).every((b) => b === 0xff));
  assert.ok(silentRtpPacket(rtp(Array(160).fill(0x12)), 'PCMA')!.subarray(12).every((b) => b === 0xd5));
  assert.equal(silentRtpPacket(Buffer.alloc(5), 'opus'), undefined);
});

test('silenceLeadIn: 20 ms silent packets just before the first one', () => {
  const first = rtp([0xfc, 1, 2]); // seq 7, ts 1234, stereo opus
  const lead = silenceLeadIn(first, 'opus', 250);
  assert.equal(lead.length, 13); // round(250 / 20)
  assert.deepEqual(lead.map((p) => p.readUInt16BE(2)), Array.from({ length: 13 }, (_, i) => (7 - 13 + i) & 0xffff));
  assert.equal(lead[12]!.readUInt32BE(4), 1234 - 960);
  assert.equal(lead[0]!.readUInt32BE(4), (1234 - 13 * 960) >>> 0, 'timestamps wrap');
  assert.deepEqual([...lead[0]!.subarray(12)], [0xfc, 0xff, 0xfe]);
  assert.equal(lead[0]![1]! & 0x7f, 111);
  assert.equal(silenceLeadIn(first, 'opus', 5).length, 0);
  const g = silenceLeadIn(rtp(Array(160).fill(1)), 'PCMA', 40);
  assert.equal(g.length, 2);
  assert.equal(g[1]!.readUInt32BE(4), 1234 - 160);
  assert.ok(g[0]!.subarray(12).every((b) => b === 0xd5));
});
