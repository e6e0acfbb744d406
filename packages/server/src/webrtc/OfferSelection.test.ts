import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { MediaDescription } from '../media/MediaTypes.js';
import { OfferError, preferDtlsServerRole, selectCodecs } from './OfferSelection.js';

const offer = readFileSync(new URL('./fixtures/chromium-recvonly-offer.sdp', import.meta.url), 'utf8');
const opusH264: MediaDescription = {
  audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
  video: { kind: 'video', codec: 'H264', clockRate: 90000 },
};

test('picks constrained-baseline H.264 packetization-mode 1 and opus from a Chromium offer', () => {
  const sel = selectCodecs(offer, opusH264);
  assert.equal(sel.video?.payloadType, 108);
  assert.equal(sel.video?.mid, '1');
  assert.match(sel.video?.fmtp ?? '', /profile-level-id=42e01f/);
  assert.equal(sel.audio?.payloadType, 111);
  assert.equal(sel.audio?.mid, '0');
  assert.equal(sel.audio?.fmtp, 'minptime=10;useinbandfec=1');
});

test('follows the source audio codec: PCMU -> 0, PCMA -> 8', () => {
  for (const [codec, pt] of [['PCMU', 0], ['PCMA', 8]] as const) {
    const sel = selectCodecs(offer, { ...opusH264, audio: { kind: 'audio', codec, clockRate: 8000, channels: 1 } });
    assert.equal(sel.audio?.payloadType, pt);
    assert.equal(sel.audio?.clockRate, 8000);
  }
});

test('falls back to baseline 42001f when constrained baseline is stripped', () => {
  const stripped = offer.replace(/^a=(rtpmap|rtcp-fb|fmtp):108 .*\r\n/gm, '').replace(' 108 109', ' 109');
  assert.equal(selectCodecs(stripped, opusH264).video?.payloadType, 102);
});

test('a source without audio answers video only; an offer without H.264 keeps audio', () => {
  assert.equal(selectCodecs(offer, { video: opusH264.video! }).audio, undefined);
  const noH264 = offer.replace(/H264/g, 'H263');
  const sel = selectCodecs(noH264, opusH264);
  assert.equal(sel.video, undefined);
  assert.equal(sel.audio?.payloadType, 111);
});

test('no common codec, garbage and oversized SDP are refused with a viewer-facing info', () => {
  const onlyG722 = offer.replace(/H264/g, 'H263').replace(/opus/g, 'xopus');
  assert.throws(() => selectCodecs(onlyG722, opusH264), (e: unknown) => e instanceof OfferError && e.info === 'No common codecs');
  for (const bad of [undefined, 42, '', 'hello', 'v=0\r\n', `v=0\r\n${'a=x\r\n'.repeat(20000)}`]) {
    assert.throws(() => selectCodecs(bad, opusH264), OfferError);
  }
});

test('preferDtlsServerRole turns actpass into active on every m-section', () => {
  const out = preferDtlsServerRole(offer);
  assert.equal((out.match(/a=setup:active/g) ?? []).length, 2);
  assert.ok(!out.includes('actpass'));
});
