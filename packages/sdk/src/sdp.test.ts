import assert from 'node:assert/strict';
import { test } from 'node:test';
import { negotiatedCodec, opusParamsFromConstraints, setOpusFmtp, stripCodecs } from './sdp';
import { chromeLikeOffer, serverAnswer } from './testing/fakes';

const offer = chromeLikeOffer(['audio', 'video']);

function section(sdp: string, kind: string): string {
  const start = sdp.indexOf(`m=${kind}`);
  const next = sdp.indexOf('m=', start + 2);
  return sdp.slice(start, next < 0 ? undefined : next);
}

test('stripCodecs: empty list leaves the SDP unchanged', () => {
  assert.equal(stripCodecs(offer, ''), offer);
  assert.equal(stripCodecs(offer, undefined), offer);
  assert.equal(stripCodecs(offer, ' , '), offer);
});

test('stripCodecs removes H264 with its rtx, fmtp and rtcp-fb lines, case-insensitively', () => {
  const out = stripCodecs(offer, 'h264');
  const video = section(out, 'video');
  assert.equal(video.split('\r\n')[0], 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99');
  for (const pt of ['102', '103', '108', '109']) {
    assert.doesNotMatch(out, new RegExp(`a=(rtpmap|fmtp|rtcp-fb):${pt} `), pt);
  }
  assert.match(video, /a=rtpmap:96 VP8\/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 nack\r\na=rtpmap:97 rtx\/90000\r\na=fmtp:97 apt=96/);
  assert.equal(section(out, 'audio'), section(offer, 'audio'), 'audio untouched');
  assert.ok(out.endsWith('\r\n'));
  assert.doesNotMatch(out, /\r\n\r\n/);
});

test('stripCodecs takes several names and arrays; removing opus drops red that protects it', () => {
  const out = stripCodecs(offer, ['OPUS', 'vp9', 'PCMU']);
  assert.equal(section(out, 'audio').split('\r\n')[0], 'm=audio 9 UDP/TLS/RTP/SAVPF 9 8 13 110 126');
  assert.doesNotMatch(out, /opus|red\/48000|a=fmtp:63|VP9|a=fmtp:99 /);
  assert.match(out, /a=rtpmap:8 PCMA\/8000/);
});

test('stripCodecs matches whole encoding names only', () => {
  // "rtx" alone removes every rtx, "VP" removes nothing.
  assert.equal(stripCodecs(offer, 'VP'), offer);
  const out = stripCodecs(offer, 'rtx');
  assert.equal(section(out, 'video').split('\r\n')[0], 'm=video 9 UDP/TLS/RTP/SAVPF 96 102 108 98');
});

test('setOpusFmtp merges into the existing fmtp line', () => {
  const out = setOpusFmtp(serverAnswer(), { stereo: '1', 'sprop-stereo': '1', useinbandfec: '1' });
  assert.match(out, /a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1\r\n/);
  assert.equal(out.match(/a=fmtp:111/g)?.length, 1);
  assert.match(out, /a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f/);
});

test('setOpusFmtp adds a fmtp line after the rtpmap when there is none', () => {
  const sdp = 'v=0\nm=audio 9 RTP/AVP 109 0\na=rtpmap:109 OPUS/48000/2\na=rtpmap:0 PCMU/8000\n';
  assert.equal(
    setOpusFmtp(sdp, { maxaveragebitrate: '32000' }),
    'v=0\nm=audio 9 RTP/AVP 109 0\na=rtpmap:109 OPUS/48000/2\na=fmtp:109 maxaveragebitrate=32000\na=rtpmap:0 PCMU/8000\n',
  );
  assert.equal(setOpusFmtp(sdp, {}), sdp);
});

test('opusParamsFromConstraints follows the Flashphoner rules', () => {
  assert.deepEqual(opusParamsFromConstraints({}), {});
  assert.deepEqual(opusParamsFromConstraints({ stereo: true, bitrate: 64000, fec: true }), {
    maxaveragebitrate: '64000',
    stereo: '1',
    'sprop-stereo': '1',
    useinbandfec: '1',
  });
  assert.deepEqual(opusParamsFromConstraints({ stereo: false, fec: false }), {});
});

test('negotiatedCodec reads the first payload type of a kind', () => {
  assert.deepEqual(negotiatedCodec(serverAnswer(), 'video'), { name: 'H264', clockRate: 90000 });
  assert.deepEqual(negotiatedCodec(serverAnswer(), 'audio'), { name: 'opus', clockRate: 48000 });
  assert.equal(negotiatedCodec(chromeLikeOffer(['audio']), 'video'), undefined);
  assert.equal(negotiatedCodec(undefined, 'audio'), undefined);
});
