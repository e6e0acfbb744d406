import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OggFormatError, opusPacketSamples, parseOpusHead, readOggPackets } from './oggOpus.js';

/** Builds one Ogg page (CRC left 0: the reader does not check it). */
function page(serial: number, segments: number[], body: Buffer): Buffer {
  const h = Buffer.alloc(27 + segments.length);
  h.write('OggS', 0, 'latin1');
  h.writeUInt32LE(serial, 14);
  h[26] = segments.length;
  segments.forEach((s, i) => (h[27 + i] = s));
  return Buffer.concat([h, body]);
}

const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.from([1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0])]);

test('readOggPackets: packets split across segments and pages', () => {
  const big = Buffer.alloc(600, 7); // 255 + 255 + 90, continued onto the next page
  const file = Buffer.concat([
    page(5, [head.length], head),
    page(5, [255, 255], big.subarray(0, 510)),
    page(5, [90, 3], Buffer.concat([big.subarray(510), Buffer.from([0xfc, 1, 2])])),
  ]);
  const packets = readOggPackets(file);
  assert.equal(packets.length, 3);
  assert.deepEqual(packets[1], big);
  assert.deepEqual(parseOpusHead(packets[0]!), { channels: 1, preSkip: 312, inputSampleRate: 48000 });
});

test('readOggPackets: malformed files throw OggFormatError', () => {
  const ok = page(1, [3], Buffer.from([1, 2, 3]));
  const bad = [
    Buffer.from('NotOgg'),
    ok.subarray(0, 20),
    ok.subarray(0, ok.length - 1),
    Buffer.concat([ok, page(2, [1], Buffer.from([0]))]),
    page(1, [255], Buffer.alloc(255)),
  ];
  for (const b of bad) assert.throws(() => readOggPackets(b), OggFormatError);
  assert.throws(() => parseOpusHead(Buffer.from('OpusTags')), OggFormatError);
});

test('opusPacketSamples: TOC configs and frame counts', () => {
  assert.equal(opusPacketSamples(Buffer.from([0xfc])), 960); // CELT FB 20 ms, 1 frame
  assert.equal(opusPacketSamples(Buffer.from([0x78])), 960); // hybrid FB 20 ms
  assert.equal(opusPacketSamples(Buffer.from([0x08])), 960); // SILK NB 20 ms
  assert.equal(opusPacketSamples(Buffer.from([0xf1])), 960); // CELT FB 10 ms, 2 frames
  assert.equal(opusPacketSamples(Buffer.from([0xf9])), 1920); // CELT FB 20 ms, 2 frames
  assert.equal(opusPacketSamples(Buffer.from([0xe3, 0x03])), 3 * 120); // CELT 2.5 ms, code 3, 3 frames
  assert.equal(opusPacketSamples(Buffer.from([0xe3])), 0);
  assert.equal(opusPacketSamples(Buffer.alloc(0)), 0);
});
