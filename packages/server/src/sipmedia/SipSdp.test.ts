import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_SDP_BYTES,
  SipSdpError,
  buildSipAnswerFor,
  buildSipOffer,
  describeMedia,
  parseSipAnswer,
  type SipOfferParams,
} from './SipSdp.js';

const OFFER: SipOfferParams = { address: '127.0.0.1', sessionId: 1, audio: { port: 31000 }, video: { port: 31002 } };
const crlf = (s: string): string => s.trim().split('\n').map((l) => l.trim()).join('\r\n') + '\r\n';

// keyframe-on-demand.md §2, verbatim: baresip 1.0.0's answer to the working offer.
const BARESIP_ANSWER = `v=0
o=- 2411233936 431396830 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
a=tool:baresip 1.0.0
m=audio 21084 RTP/AVP 111 0
a=rtpmap:111 opus/48000/2
a=fmtp:111 stereo=1;sprop-stereo=1;maxaveragebitrate=32000
a=rtpmap:0 PCMU/8000
a=sendrecv
a=label:1
a=ssrc:2191948343 cname:sip:bob@127.0.0.1:5170
a=minptime:20
a=ptime:20
m=video 21046 RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1;profile-level-id=42e01f
a=sendrecv
a=label:2
a=ssrc:4255491720 cname:sip:bob@127.0.0.1:5170
a=framerate:25.00
a=rtcp-fb:* nack pli
a=content:main
`;

test('offer: RTP/AVP only, PTs, fmtp, rtcp-fb, sendrecv, c=', () => {
  const sdp = buildSipOffer(OFFER);
  assert.ok(sdp.endsWith('\r\n'));
  const lines = sdp.split('\r\n');
  assert.equal(lines[0], 'v=0');
  assert.ok(lines.includes('o=sipcast 1 1 IN IP4 127.0.0.1'));
  assert.ok(lines.includes('c=IN IP4 127.0.0.1'));
  assert.ok(lines.includes('m=audio 31000 RTP/AVP 111 0 8 101 110'));
  assert.ok(lines.includes('m=video 31002 RTP/AVP 96'));
  assert.ok(!sdp.includes('AVPF'), 'baresip refuses AVPF lines');
  for (const l of [
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=rtpmap:110 telephone-event/48000',
    'a=fmtp:110 0-16',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f',
    'a=rtcp-fb:96 nack pli',
    'a=rtcp-fb:96 ccm fir',
  ]) {
    assert.ok(lines.includes(l), `missing ${l}`);
  }
  assert.equal(lines.filter((l) => l === 'a=sendrecv').length, 2);
});

test('offer: codec order is preference, no 48 kHz events without opus, telephoneEvent off, audio only', () => {
  const sdp = buildSipOffer({ address: '10.0.0.1', sessionId: '42', sessionVersion: 3, audio: { port: 4000, codecs: ['PCMA', 'PCMU'] } });
  assert.match(sdp, /^m=audio 4000 RTP\/AVP 8 0 101\r$/m);
  assert.doesNotMatch(sdp, /telephone-event\/48000/);
  assert.doesNotMatch(sdp, /m=video/);
  assert.match(sdp, /^o=sipcast 42 3 IN IP4 10.0.0.1\r$/m);
  const noTe = buildSipOffer({ address: '10.0.0.1', sessionId: 1, audio: { port: 4000, telephoneEvent: false } });
  assert.match(noTe, /^m=audio 4000 RTP\/AVP 111 0 8\r$/m);
  assert.doesNotMatch(noTe, /telephone-event/);
  const v6 = buildSipOffer({ address: '::1', sessionId: 1, video: { port: 4002 } });
  assert.match(v6, /^c=IN IP6 ::1\r$/m);
  assert.throws(() => buildSipOffer({ address: 'host.example', sessionId: 1, audio: { port: 4000 } }), RangeError);
  assert.throws(() => buildSipOffer({ address: '127.0.0.1', sessionId: 1 }), RangeError);
  assert.throws(() => buildSipOffer({ address: '127.0.0.1', sessionId: 1, audio: { port: 0 } }), RangeError);
  assert.throws(() => buildSipOffer({ address: '127.0.0.1', sessionId: 1, audio: { port: 4000, codecs: [] } }), RangeError);
});

test('baresip answer (keyframe-on-demand.md §2): opus 111, H264 96, RTCP = port + 1, SSRCs', () => {
  const a = parseSipAnswer(BARESIP_ANSWER, OFFER);
  assert.deepEqual(a.rejected, []);
  assert.ok(a.audio && a.video);
  assert.equal(a.audio.codec, 'opus');
  assert.equal(a.audio.payloadType, 111);
  assert.equal(a.audio.clockRate, 48000);
  assert.equal(a.audio.channels, 2);
  assert.equal(a.audio.address, '127.0.0.1');
  assert.equal(a.audio.port, 21084);
  assert.equal(a.audio.rtcpPort, 21085);
  assert.equal(a.audio.ssrc, 2191948343);
  assert.equal(a.audio.fmtp['stereo'], '1');
  assert.equal(a.audio.telephoneEventPt, undefined);
  assert.equal(a.audio.direction, 'sendrecv');
  assert.equal(a.video.codec, 'H264');
  assert.equal(a.video.payloadType, 96);
  assert.equal(a.video.port, 21046);
  assert.equal(a.video.rtcpPort, 21047);
  assert.equal(a.video.rtcpAddress, '127.0.0.1');
  assert.equal(a.video.rtcpMux, false);
  assert.equal(a.video.ssrc, 4255491720);
  assert.equal(a.video.ssrc, 0xfda5a688);
  assert.equal(a.video.profileLevelId, '42e01f');
  assert.equal(a.video.protocol, 'RTP/AVP');
  assert.deepEqual(describeMedia(a), {
    audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
    video: { kind: 'video', codec: 'H264', clockRate: 90000, profileLevelId: '42e01f' },
  });
  // CRLF line endings parse the same
  assert.deepEqual(parseSipAnswer(crlf(BARESIP_ANSWER), OFFER), a);
});

test('PCMU-first answer with telephone-event, a=rtcp, media-level c= and direction', () => {
  const a = parseSipAnswer(
    crlf(`v=0
      o=- 1 1 IN IP4 192.0.2.1
      s=-
      c=IN IP4 192.0.2.1
      t=0 0
      a=recvonly
      m=audio 5004 RTP/AVP 0 8 111 101
      c=IN IP4 192.0.2.7
      a=rtpmap:111 opus/48000/2
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=rtcp:6000 IN IP4 192.0.2.8
      a=sendonly
      m=video 5006 RTP/AVP 96
      a=rtpmap:96 H264/90000
      a=fmtp:96 profile-level-id=42C01F;packetization-mode=1`),
    OFFER,
  );
  assert.ok(a.audio && a.video);
  assert.equal(a.audio.codec, 'PCMU');
  assert.equal(a.audio.payloadType, 0);
  assert.equal(a.audio.clockRate, 8000);
  assert.equal(a.audio.channels, 1);
  assert.equal(a.audio.address, '192.0.2.7');
  assert.equal(a.audio.rtcpAddress, '192.0.2.8');
  assert.equal(a.audio.rtcpPort, 6000);
  assert.equal(a.audio.telephoneEventPt, 101);
  assert.equal(a.audio.telephoneEventClockRate, 8000);
  assert.equal(a.audio.direction, 'sendonly');
  assert.equal(a.video.address, '192.0.2.1');
  assert.equal(a.video.direction, 'recvonly', 'session-level direction applies');
  assert.equal(a.video.profileLevelId, '42c01f');
  assert.equal(describeMedia(a).audio?.codec, 'PCMU');
});

test('telephone-event matching the codec clock is preferred; rtcp-mux means the RTP port', () => {
  const a = parseSipAnswer(
    crlf(`v=0
      o=- 1 1 IN IP4 192.0.2.1
      s=-
      c=IN IP4 192.0.2.1
      t=0 0
      m=audio 5004 RTP/AVP 111 101 110
      a=rtpmap:111 opus/48000/2
      a=rtpmap:101 telephone-event/8000
      a=rtpmap:110 telephone-event/48000
      a=rtcp-mux`),
    OFFER,
  );
  assert.equal(a.audio?.telephoneEventPt, 110);
  assert.equal(a.audio?.telephoneEventClockRate, 48000);
  assert.equal(a.audio?.rtcpPort, 5004);
  assert.equal(a.audio?.rtcpMux, true);
  assert.deepEqual(a.rejected, ['video']);
  assert.equal(a.rejectReasons.video, 'no m=video line');
});

test('m=video 0 RTP/AVPF 0 (baresip refusing AVPF): video rejected, audio kept', () => {
  const a = parseSipAnswer(
    crlf(`v=0
      o=- 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio 21084 RTP/AVP 111
      a=rtpmap:111 opus/48000/2
      m=video 0 RTP/AVPF 0`),
    OFFER,
  );
  assert.equal(a.audio?.codec, 'opus');
  assert.equal(a.video, undefined);
  assert.deepEqual(a.rejected, ['video']);
  assert.match(a.rejectReasons.video ?? '', /port 0/);
  assert.deepEqual(describeMedia(a), { audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 } });
});

test('AVPF, SAVP, SAVPF audio answers are accepted; other protocols rejected', () => {
  for (const proto of ['RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF']) {
    const a = parseSipAnswer(crlf(`v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 7000 ${proto} 8`), OFFER);
    assert.equal(a.audio?.codec, 'PCMA', proto);
    assert.equal(a.audio?.protocol, proto);
  }
  const bad = parseSipAnswer(crlf('v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 7000 UDP/TLS/RTP/SAVPF 8'), OFFER);
  assert.deepEqual(bad.rejected, ['audio', 'video']);
  assert.match(bad.rejectReasons.audio ?? '', /protocol/);
});

test('H.264 answers: profiles 42e01f/42001f/42c01f/4d001f accepted, mode 0 and High rejected with a reason', () => {
  const video = (fmtp: string | null): string =>
    crlf(
      `v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=video 7002 RTP/AVP 97\na=rtpmap:97 H264/90000` +
        (fmtp === null ? '' : `\na=fmtp:97 ${fmtp}`),
    );
  const offered = { video: {} };
  for (const p of ['42e01f', '42001f', '42c01f', '4d001f', '42E01F']) {
    const a = parseSipAnswer(video(`packetization-mode=1;profile-level-id=${p}`), offered);
    assert.equal(a.video?.profileLevelId, p.toLowerCase(), p);
    assert.equal(a.video?.payloadType, 97, 'the answer may renumber the PT');
  }
  const noPli = parseSipAnswer(video('packetization-mode=1'), offered);
  assert.equal(noPli.video?.codec, 'H264');
  assert.equal(noPli.video?.profileLevelId, undefined);
  for (const [fmtp, why] of [
    [null, /packetization-mode 0/],
    ['profile-level-id=42e01f', /packetization-mode 0/],
    ['packetization-mode=0;profile-level-id=42e01f', /packetization-mode 0/],
    ['packetization-mode=1;profile-level-id=640028', /profile-level-id 640028/],
  ] as const) {
    const a = parseSipAnswer(video(fmtp), offered);
    assert.deepEqual(a.rejected, ['video'], String(fmtp));
    assert.match(a.rejectReasons.video ?? '', why);
  }
  // VP8 was never offered
  const vp8 = parseSipAnswer(crlf('v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=video 7002 RTP/AVP 100\na=rtpmap:100 VP8/90000'), offered);
  assert.deepEqual(vp8.rejected, ['video']);
});

test('a codec we did not offer is treated as rejected', () => {
  const sdp = crlf('v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 7000 RTP/AVP 9 111\na=rtpmap:9 G722/8000\na=rtpmap:111 opus/48000/2');
  const onlyG711 = parseSipAnswer(sdp, { audio: { codecs: ['PCMU', 'PCMA'] } });
  assert.deepEqual(onlyG711.rejected, ['audio']);
  assert.match(onlyG711.rejectReasons.audio ?? '', /G722|g722/i);
  assert.equal(parseSipAnswer(sdp, { audio: {} }).audio?.codec, 'opus', 'first offered codec in answer order');
});

test('stream-level problems reject the stream, not the answer', () => {
  const base = 'v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nt=0 0\n';
  const noC = parseSipAnswer(crlf(base + 'm=audio 7000 RTP/AVP 0'), OFFER);
  assert.match(noC.rejectReasons.audio ?? '', /c=/);
  const fqdn = parseSipAnswer(crlf(base + 'c=IN IP4 pbx.example\nm=audio 7000 RTP/AVP 0'), OFFER);
  assert.match(fqdn.rejectReasons.audio ?? '', /IP literal/);
  const badPort = parseSipAnswer(crlf(base + 'c=IN IP4 10.1.1.1\nm=audio 70000 RTP/AVP 0'), OFFER);
  assert.match(badPort.rejectReasons.audio ?? '', /invalid port/);
  const badRtcp = parseSipAnswer(crlf(base + 'c=IN IP4 10.1.1.1\nm=audio 7000 RTP/AVP 0\na=rtcp:0'), OFFER);
  assert.match(badRtcp.rejectReasons.audio ?? '', /a=rtcp/);
  const lastPort = parseSipAnswer(crlf(base + 'c=IN IP4 10.1.1.1\nm=audio 65535 RTP/AVP 0'), OFFER);
  assert.match(lastPort.rejectReasons.audio ?? '', /RTCP port/);
});

test('garbage and oversized SDP throw SipSdpError with a code', () => {
  const code = (sdp: string): string => {
    try {
      parseSipAnswer(sdp, OFFER);
    } catch (e) {
      assert.ok(e instanceof SipSdpError);
      return e.code;
    }
    return 'no error';
  };
  assert.equal(code(''), 'invalid');
  assert.equal(code('hello world'), 'invalid');
  assert.equal(code('<html>502 Bad Gateway</html>'), 'invalid');
  assert.equal(code(crlf('v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0')), 'no-media');
  assert.equal(code(crlf('v=0\nm=garbage')), 'invalid');
  const nine = 'v=0\r\nc=IN IP4 1.2.3.4\r\n' + 'm=audio 7000 RTP/AVP 0\r\n'.repeat(9);
  assert.equal(code(nine), 'too-many-media');
  const big = 'v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 7000 RTP/AVP 0\r\n' + `a=x:${'y'.repeat(100)}\r\n`.repeat(MAX_SDP_BYTES / 100);
  assert.equal(code(big), 'too-large');
  // 8 m-lines is still fine
  const eight = 'v=0\r\nc=IN IP4 1.2.3.4\r\n' + 'm=audio 7000 RTP/AVP 0\r\n'.repeat(8);
  assert.equal(parseSipAnswer(eight, OFFER).audio?.codec, 'PCMU');
});

test('re-INVITE: answered with our ports and codec under the new PTs; null when our codec is gone', () => {
  const current = { address: '203.0.113.5', sessionId: 77, sessionVersion: 1, audio: { port: 31000, codec: 'opus' as const }, video: { port: 31002 } };
  const reoffer = crlf(`v=0
    o=- 2411233936 431396831 IN IP4 198.51.100.9
    s=-
    c=IN IP4 198.51.100.9
    t=0 0
    m=audio 40000 RTP/AVPF 0 109 102
    a=rtpmap:109 opus/48000/2
    a=rtpmap:102 telephone-event/48000
    a=sendonly
    m=application 9 UDP/BFCP *
    m=video 40002 RTP/AVP 97
    a=rtpmap:97 H264/90000
    a=fmtp:97 packetization-mode=1;profile-level-id=42001f`);
  const r = buildSipAnswerFor(reoffer, current);
  assert.ok(r);
  assert.equal(r.sessionVersion, 2);
  const lines = r.sdp.split('\r\n');
  assert.ok(lines.includes('o=sipcast 77 2 IN IP4 203.0.113.5'));
  assert.ok(lines.includes('c=IN IP4 203.0.113.5'));
  const mLines = lines.filter((l) => l.startsWith('m='));
  assert.deepEqual(mLines, ['m=audio 31000 RTP/AVPF 109 102', 'm=application 0 UDP/BFCP *', 'm=video 31002 RTP/AVP 97']);
  assert.ok(lines.includes('a=rtpmap:109 opus/48000/2'));
  assert.ok(lines.includes('a=rtpmap:102 telephone-event/48000'));
  assert.ok(lines.includes('a=recvonly'), 'sendonly offer → recvonly answer');
  assert.ok(lines.includes('a=fmtp:97 packetization-mode=1;profile-level-id=42001f'));
  assert.equal(r.remote.audio?.address, '198.51.100.9');
  assert.equal(r.remote.audio?.payloadType, 109);
  assert.equal(r.remote.audio?.telephoneEventPt, 102);
  assert.equal(r.remote.video?.port, 40002);
  // our answer is itself valid SDP we can read back
  const back = parseSipAnswer(r.sdp, { audio: {}, video: {} });
  assert.equal(back.audio?.port, 31000);
  assert.equal(back.video?.payloadType, 97);

  assert.equal(buildSipAnswerFor(reoffer.replace('0 109 102', '0 102'), current), null, 'opus gone');
  assert.equal(buildSipAnswerFor(reoffer.replace('m=video 40002', 'm=video 0'), current), null, 'video zeroed');
  assert.equal(buildSipAnswerFor(reoffer.replace('RTP/AVPF', 'RTP/SAVP'), current), null, 'SRTP not supported');
  const audioOnly = buildSipAnswerFor(reoffer, { ...current, video: undefined });
  assert.ok(audioOnly);
  assert.ok(audioOnly.sdp.includes('m=video 0 RTP/AVP 97'));
  assert.throws(() => buildSipAnswerFor('garbage', current), SipSdpError);
});
