import assert from 'node:assert/strict';
import { beforeEach, mock, test } from 'node:test';
import { STREAM_EVENT, STREAM_STATUS } from './constants';
import type { Stream } from './Stream';
import type { StreamEvent } from './types';
import {
  FakeDocument,
  FakeRTCPeerConnection,
  FakeVideoElement,
  flush,
  installFakes,
  serverAnswer,
} from './testing/fakes';
import { connectedSession } from './testing/harness';

let document: FakeDocument;

beforeEach(() => {
  ({ document } = installFakes());
});

function div(): HTMLElement {
  return document.createElement('div') as unknown as HTMLElement;
}

async function playing(options: Record<string, unknown> = {}) {
  const { session, ws } = await connectedSession();
  const display = div();
  const stream = session.createStream({ name: 'demo', display, ...options });
  stream.play();
  await flush();
  const pc = FakeRTCPeerConnection.last();
  return { session, ws, stream, display, pc };
}

test('play(): PENDING fires with the <video> already in display, then playStream carries the offer', async () => {
  const { session, ws } = await connectedSession();
  const display = div();
  const stream = session.createStream({ name: 'demo', display });
  assert.equal(stream.status(), 'NEW');
  assert.equal(stream.published(), false);
  assert.equal(stream.name(), 'demo');
  let atPending: { videoId?: string; frames: number } | undefined;
  stream.on(STREAM_STATUS.PENDING, (s) => {
    const child = (display as unknown as { children: Array<{ id: string; tagName: string }> }).children[0];
    atPending = { videoId: child?.tagName === 'VIDEO' ? child.id : undefined, frames: ws.framesNamed('playStream').length };
    assert.equal(s, stream);
  });
  stream.play();
  assert.equal(stream.status(), 'PENDING');
  assert.deepEqual(atPending, { videoId: stream.id(), frames: 0 });
  await flush();

  const pc = FakeRTCPeerConnection.last();
  assert.equal(pc.configuration['bundlePolicy'], 'max-compat');
  assert.equal(pc.configuration['rtcpMuxPolicy'], 'require');
  assert.deepEqual(pc.configuration['iceServers'], []);
  assert.deepEqual(pc.transceivers, [
    { kind: 'audio', direction: 'recvonly' },
    { kind: 'video', direction: 'recvonly' },
  ]);
  const play = ws.lastData('playStream');
  assert.ok(pc.localDescription, 'the offer was applied locally before sending');
  assert.deepEqual(play, {
    mediaSessionId: stream.id(),
    name: 'demo',
    published: false,
    hasVideo: true,
    hasAudio: true,
    status: 'PENDING',
    record: false,
    width: 0,
    height: 0,
    mediaProvider: 'WebRTC',
    sdp: pc.localDescription.sdp,
    bitrate: 0,
    minBitrate: 0,
    maxBitrate: 0,
    quality: 0,
  });
  assert.doesNotMatch(String(play['sdp']), /a=candidate/);
  assert.throws(() => stream.play(), { name: 'Error', message: 'Invalid stream state' });
});

test('playStream carries constraints, sizes, bitrates, transport, cvoExtension and custom', async () => {
  const constraints = { audio: { stereo: true }, video: { width: 640, height: 360, bitrate: 900, quality: 150 } };
  const { ws } = await playing({ constraints, transport: 'TCP', cvoExtension: true, custom: { k: 'v' }, playHeight: 240 });
  const play = ws.lastData('playStream');
  assert.equal(play['width'], 640);
  assert.equal(play['height'], 240, 'playHeight wins over constraints.video.height');
  assert.equal(play['bitrate'], 900);
  assert.equal(play['quality'], 100, 'quality is capped at 100');
  assert.deepEqual(play['constraints'], constraints);
  assert.equal(play['transport'], 'TCP');
  assert.equal(play['cvoExtension'], true);
  assert.deepEqual(play['custom'], { k: 'v' });
  assert.match(String(play['sdp']), /a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1/, 'stereo offered');
});

test('receiveVideo:false / constraints.video:false offer audio only', async () => {
  const { ws, pc } = await playing({ constraints: { video: false } });
  assert.deepEqual(pc.transceivers.map((t) => t.kind), ['audio']);
  const play = ws.lastData('playStream');
  assert.equal(play['hasVideo'], false);
  assert.doesNotMatch(String(play['sdp']), /m=video/);
});

test('stripCodecs removes codecs (and their rtx) from the offer sent, case-insensitively', async () => {
  const { ws, pc } = await playing({ stripCodecs: 'h264, pcma' });
  const sdp = String(ws.lastData('playStream')['sdp']);
  assert.doesNotMatch(sdp, /H264|PCMA|a=fmtp:103|a=fmtp:109/);
  assert.match(sdp, /m=video 9 UDP\/TLS\/RTP\/SAVPF 96 97 98 99\r\n/);
  assert.match(sdp, /m=audio 9 UDP\/TLS\/RTP\/SAVPF 111 63 9 0 13 110 126\r\n/);
  assert.match(pc.localDescription!.sdp, /H264/, 'the local description keeps them (only the sent offer is stripped)');
});

test('setRemoteSDP is applied as the answer, with opus fmtp from constraints and sdpHook', async () => {
  const hookSeen: string[] = [];
  const { ws, stream, pc } = await playing({
    constraints: { audio: { stereo: true, bitrate: 64000, fec: true } },
    sdpHook: ({ sdpString }: { sdpString: string }) => {
      hookSeen.push(sdpString);
      return sdpString + 'a=x-hooked:1\r\n';
    },
  });
  ws.serverSend('setRemoteSDP', 'some-other-id', serverAnswer());
  await flush();
  const remote = (): { type: string; sdp: string } | null => pc.remoteDescription;
  assert.equal(remote(), null, 'an answer for another stream is not applied');
  ws.serverSend('setRemoteSDP', stream.id(), serverAnswer());
  await flush();
  assert.equal(remote()?.type, 'answer');
  const applied = remote()!.sdp;
  assert.match(applied, /a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=64000;stereo=1;sprop-stereo=1\r\n/);
  assert.equal(applied.match(/a=fmtp:111/g)?.length, 1, 'one fmtp line for opus');
  assert.match(applied, /a=x-hooked:1\r\n$/);
  assert.equal(hookSeen.length, 1);
  assert.match(hookSeen[0]!, /maxaveragebitrate=64000/, 'the hook sees the munged answer');
  assert.equal(stream.status(), 'PENDING', 'setRemoteSDP alone does not end PENDING');
});

test('statuses are routed by mediaSessionId and update info and states', async () => {
  const { session, ws } = await connectedSession();
  const a = session.createStream({ name: 'a', display: div() });
  const b = session.createStream({ name: 'b', display: div() });
  a.play();
  b.play();
  await flush();
  const seen: string[] = [];
  a.on(STREAM_STATUS.PLAYING, (s) => seen.push(`a:${s.status()}`));
  b.on(STREAM_STATUS.PLAYING, () => seen.push('b'));
  ws.serverSend('notifyStreamStatusEvent', {
    mediaSessionId: a.id(),
    status: 'PLAYING',
    info: 'ok',
    audioState: { muted: false },
    videoState: { muted: true },
  });
  ws.serverSend('notifyStreamStatusEvent', { status: 'PLAYING' }); // no id: dropped
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: 'unknown', status: 'FAILED' });
  assert.deepEqual(seen, ['a:PLAYING']);
  assert.equal(a.status(), 'PLAYING');
  assert.equal(b.status(), 'PENDING');
  assert.equal(a.getInfo(), 'ok');
  assert.deepEqual(a.getAudioState(), { muted: false });
  assert.deepEqual(a.getVideoState(), { muted: true });
});

test('RESIZE and STREAM_EVENT resize update videoResolution() but not status()', async () => {
  const { ws, stream } = await playing();
  assert.deepEqual(stream.videoResolution(), {});
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'PLAYING' });
  let resized = 0;
  stream.on(STREAM_STATUS.RESIZE, () => resized++);
  ws.serverSend('notifyStreamStatusEvent', {
    mediaSessionId: stream.id(),
    status: 'RESIZE',
    playerVideoWidth: 1280,
    playerVideoHeight: 720,
  });
  assert.equal(resized, 1);
  assert.equal(stream.status(), 'PLAYING');
  assert.deepEqual(stream.videoResolution(), { width: 1280, height: 720 });
  const events: StreamEvent[] = [];
  stream.on(STREAM_EVENT, (e) => events.push(e));
  const event = {
    mediaSessionId: stream.id(),
    type: 'resize',
    payload: { streamerVideoWidth: 640, streamerVideoHeight: 360 },
  };
  ws.serverSend('notifyStreamEvent', event);
  assert.deepEqual(events, [event]);
  assert.deepEqual(stream.videoResolution(), { width: 640, height: 360 });
  assert.equal(stream.status(), 'PLAYING');
  ws.serverSend('notifyStreamEvent', {
    mediaSessionId: stream.id(),
    type: 'notEnoughBandwidth',
    payload: { info: '800000/500000' },
  });
  assert.equal(stream.getRemoteBitrate(), 800000);
  assert.equal(stream.getNetworkBandwidth(), 500000);
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'NOT_ENOUGH_BANDWIDTH', info: '1/2' });
  assert.equal(stream.status(), 'PLAYING');
});

test('stop(): stopStream, PC closed at once, STOPPED from the server releases the stream', async () => {
  const { session, ws, stream, pc, display } = await playing();
  ws.serverSend('setRemoteSDP', stream.id(), serverAnswer());
  await flush();
  pc.fireTrack('video');
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'PLAYING' });
  stream.stop();
  assert.deepEqual(ws.lastData('stopStream'), {
    mediaSessionId: stream.id(),
    name: 'demo',
    published: false,
    hasVideo: true,
    hasAudio: true,
    status: 'PLAYING',
    record: false,
  });
  assert.equal(pc.closed, true);
  assert.equal(stream.status(), 'PLAYING', 'the final status comes from the server');
  assert.equal(session.getStream(stream.id()), stream);
  let stopped = 0;
  stream.on(STREAM_STATUS.STOPPED, () => stopped++);
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'STOPPED', info: 'Stopped by user' });
  assert.equal(stopped, 1);
  assert.equal(stream.status(), 'STOPPED');
  assert.equal(stream.getInfo(), 'Stopped by user');
  assert.equal(session.getStream(stream.id()), undefined);
  assert.deepEqual(session.getStreams(), []);
  const video = (display as unknown as { children: FakeVideoElement[] }).children[0]!;
  assert.equal(video.srcObject, null);
  assert.equal(video.id, `${stream.id()}-REMOTE_CACHED_VIDEO`);
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'PLAYING' });
  assert.equal(stream.status(), 'STOPPED', 'a released stream ignores later events');
  assert.throws(() => stream.play(), { message: 'Invalid stream state' });

  // The next stream in that display reuses the cached <video>.
  const next = session.createStream({ name: 'demo', display });
  next.play();
  assert.equal((display as unknown as { children: FakeVideoElement[] }).children.length, 1);
  assert.equal(video.id, next.id());
});

test('stop() without a server answer stops locally after 3 s', async () => {
  const { session, ws, stream } = await playing();
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'PLAYING' });
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    stream.stop();
    stream.stop();
    assert.equal(ws.framesNamed('stopStream').length, 1, 'stop() twice sends once');
    mock.timers.tick(2999);
    assert.equal(stream.status(), 'PLAYING');
    mock.timers.tick(1);
    assert.equal(stream.status(), 'STOPPED');
    assert.equal(session.getStream(stream.id()), undefined);
  } finally {
    mock.timers.reset();
  }
});

test('stop() on a NEW stream gives FAILED; stop() before the offer is out sends nothing', async () => {
  const { session, ws } = await connectedSession();
  const fresh = session.createStream({ name: 'n' });
  let failed = 0;
  fresh.on(STREAM_STATUS.FAILED, () => failed++);
  fresh.stop();
  assert.equal(failed, 1);
  assert.equal(fresh.status(), 'FAILED');
  const early = session.createStream({ name: 'e', display: div() });
  early.play();
  early.stop();
  assert.equal(early.status(), 'STOPPED');
  await flush();
  assert.equal(ws.framesNamed('playStream').length, 0, 'playStream is not sent after stop()');
  assert.equal(ws.framesNamed('stopStream').length, 0);
  assert.equal(FakeRTCPeerConnection.last().closed, true);
});

test('server FAILED "Stream not found" fails and releases the stream', async () => {
  const { session, ws, stream, pc } = await playing();
  let info: string | undefined;
  stream.on(STREAM_STATUS.FAILED, (s) => {
    info = s.getInfo();
  });
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'FAILED', info: 'Stream not found' });
  assert.equal(info, 'Stream not found');
  assert.equal(stream.status(), 'FAILED');
  assert.equal(pc.closed, true);
  assert.equal(session.getStream(stream.id()), undefined);
});

test('UNPUBLISHED releases too', async () => {
  const { session, ws, stream, pc } = await playing();
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'UNPUBLISHED' });
  assert.equal(pc.closed, true);
  assert.equal(session.getStream(stream.id()), undefined);
});

test('a failing setRemoteDescription fails the stream locally and tells the server', async () => {
  const { ws, stream } = await playing();
  FakeRTCPeerConnection.failNextRemoteDescription = new Error('bad answer');
  ws.serverSend('setRemoteSDP', stream.id(), serverAnswer());
  await flush();
  assert.equal(stream.status(), 'FAILED');
  assert.equal(stream.getErrorInfo(), 'bad answer');
  assert.equal(stream.getInfo(), 'Local error');
  assert.equal(ws.framesNamed('stopStream').length, 1);
});

test('tracks go into ONE MediaStream on the <video>; unmuted autoplay when allowed', async () => {
  const { stream, pc, display } = await playing();
  const video = (display as unknown as { children: FakeVideoElement[] }).children[0]!;
  assert.equal(video.muted, true, 'created muted');
  pc.fireTrack('audio');
  pc.fireTrack('video');
  assert.ok(video.srcObject);
  assert.equal(video.srcObject.getTracks().length, 2);
  video.loadMetadata();
  await flush();
  assert.deepEqual(video.playCalls, [{ muted: false, result: 'ok' }]);
  assert.equal(stream.isRemoteAudioMuted(), false);
  stream.setVolume(40);
  assert.equal(stream.getVolume(), 40);
  stream.muteRemoteAudio();
  assert.equal(stream.isRemoteAudioMuted(), true);
  stream.unmuteRemoteAudio();
  assert.equal(video.muted, false);
});

test('autoplay refused: retry muted, unmute on the next user gesture', async () => {
  FakeVideoElement.autoplayPolicy = 'muted-only';
  const { pc, display, stream } = await playing();
  const video = (display as unknown as { children: FakeVideoElement[] }).children[0]!;
  pc.fireTrack('audio');
  pc.fireTrack('video');
  video.loadMetadata();
  await flush();
  assert.deepEqual(video.playCalls, [
    { muted: false, result: 'NotAllowedError' },
    { muted: true, result: 'ok' },
  ]);
  assert.equal(video.muted, true);
  assert.equal(video.paused, false);
  document.gesture('click');
  assert.equal(video.muted, false, 'unmuted on the gesture');
  assert.equal(stream.isRemoteAudioMuted(), false);
  assert.equal(document.listenerCount('click'), 0, 'gesture listeners removed');
});

test('unmutePlayOnStart:false keeps playback muted', async () => {
  const { pc, display } = await playing({ unmutePlayOnStart: false });
  const video = (display as unknown as { children: FakeVideoElement[] }).children[0]!;
  pc.fireTrack('video');
  video.loadMetadata();
  await flush();
  assert.deepEqual(video.playCalls, [{ muted: true, result: 'ok' }]);
});

test('remoteVideo is used as is; getVolume is -1 without audio', async () => {
  const own = document.createElement('video') as FakeVideoElement;
  own.id = 'mine';
  const { pc, stream } = await playing({ display: undefined, remoteVideo: own });
  pc.fireTrack('video');
  assert.equal(own.id, 'mine');
  assert.equal(own.srcObject?.getTracks().length, 1);
  assert.equal(stream.getVolume(), -1);
  assert.equal(stream.isRemoteAudioMuted(), true);
  stream.stop();
  assert.equal(own.id, 'mine', 'a user element is not renamed');
});

test('playoutDelay sets jitterBufferTarget (ms) or playoutDelayHint (s)', async () => {
  const first = await playing({ playoutDelay: 0.5 });
  const { receiver } = first.pc.fireTrack('video');
  assert.equal(receiver['jitterBufferTarget'], 500);
  FakeRTCPeerConnection.receiverHasJitterBufferTarget = false;
  const second = await playing({ playoutDelay: 0.5 });
  assert.equal(second.pc.fireTrack('audio').receiver['playoutDelayHint'], 0.5);
});

test('on() replaces the previous callback; addListener keeps several', async () => {
  const { ws, stream } = await playing();
  const calls: string[] = [];
  assert.equal(
    stream.on(STREAM_STATUS.PLAYING, () => calls.push('first')).on(STREAM_STATUS.PLAYING, () => calls.push('second')),
    stream,
  );
  stream.addListener(STREAM_STATUS.PLAYING, () => calls.push('l1')).addListener(STREAM_STATUS.PLAYING, () => calls.push('l2'));
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'PLAYING' });
  assert.deepEqual(calls.sort(), ['l1', 'l2', 'second']);
  assert.throws(() => stream.on('' as never, () => undefined), { name: 'TypeError', message: "Event can't be null" });
  assert.throws(() => stream.on(STREAM_STATUS.FAILED, null as never), { message: 'Callback needs to be a valid function' });
});

test('available() resolves or rejects with the stream per availableStream', async () => {
  const { session, ws } = await connectedSession();
  const stream = session.createStream({ name: 'x' });
  const yes = stream.available();
  assert.deepEqual(ws.lastData('availableStream'), { mediaSessionId: stream.id(), name: 'x' });
  ws.serverSend('availableStream', { id: stream.id(), status: 'true', info: 'Available' });
  assert.equal(await yes, stream);
  const no = stream.available();
  ws.serverSend('availableStream', { id: stream.id(), status: 'false', info: 'Stream not found' });
  await assert.rejects(no, (s: unknown) => s === stream);
  assert.equal(stream.getInfo(), 'Stream not found');
});

test('snapshot(): resolves on snapshotCompleted, rejects cleanly when unsupported', async () => {
  const { ws, stream } = await playing();
  ws.serverSend('notifyStreamStatusEvent', { mediaSessionId: stream.id(), status: 'PLAYING' });
  const ok = stream.snapshot();
  assert.deepEqual(ws.lastData('snapshot'), { name: 'demo', mediaSessionId: stream.id() });
  ws.serverSend('notifyStreamEvent', { mediaSessionId: stream.id(), type: 'snapshotCompleted', payload: { snapshot: 'iVBOR' } });
  assert.equal(await ok, 'iVBOR');
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const silent = stream.snapshot();
    mock.timers.tick(5000);
    await assert.rejects(silent, { message: 'Snapshot is not supported by the server' });
  } finally {
    mock.timers.reset();
  }
});

test('getStats maps inbound-rtp reports; passes the native report when asked', async () => {
  const { ws, stream } = await playing();
  ws.serverSend('setRemoteSDP', stream.id(), serverAnswer());
  await flush();
  FakeRTCPeerConnection.statsReport = new Map<string, Record<string, unknown>>([
    ['c1', { type: 'codec', id: 'c1', mimeType: 'video/H264', clockRate: 90000 }],
    ['v', { type: 'inbound-rtp', kind: 'video', codecId: 'c1', bytesReceived: 1000, packetsReceived: 10, packetsLost: 1,
      framesDecoded: 30, framesPerSecond: 29.97, frameWidth: 640, frameHeight: 360, nackCount: 2, ssrc: 5, mid: '1' }],
    ['a', { type: 'inbound-rtp', kind: 'audio', bytesReceived: 500, packetsReceived: 50, packetsLost: 0, audioLevel: 0.1 }],
    ['p', { type: 'candidate-pair', nominated: true, state: 'succeeded', availableIncomingBitrate: 2e6, currentRoundTripTime: 0.01 }],
  ]);
  let native: unknown;
  const stats = await stream.getStats((_s, n) => {
    native = n;
  }, true);
  assert.equal(native, FakeRTCPeerConnection.statsReport);
  assert.deepEqual(stats.inboundStream.video, {
    codec: 'H264', codecRate: 90000, bytesReceived: 1000, packetsReceived: 10, packetsLost: 1,
    framesDecoded: 30, framesPerSecond: 29.97, width: 640, height: 360, nackCount: 2,
  });
  assert.deepEqual(stats.inboundStream.audio, {
    codec: 'opus', codecRate: 48000, bytesReceived: 500, packetsReceived: 50, packetsLost: 0, audioLevel: 0.1,
  });
  assert.deepEqual(stats.outboundStream, {});
  assert.deepEqual(stats.otherStats, { availableIncomingBitrate: 2e6, currentRoundTripTime: 0.01 });
  let plain: unknown[] = [];
  await stream.getStats((...args) => {
    plain = args;
  });
  assert.equal(plain.length, 1, 'no native report unless asked');
});

test('session mediaOptions reach the peer connection; bundle/rtcp-mux are forced', async () => {
  const { session } = await connectedSession({
    mediaOptions: { iceServers: [{ urls: 'stun:stun.test' }], bundlePolicy: 'balanced' },
  });
  session.createStream({ name: 's', display: div(), mediaConnectionConstraints: { optional: [] } }).play();
  const pc = FakeRTCPeerConnection.last();
  assert.deepEqual(pc.configuration['iceServers'], [{ urls: 'stun:stun.test' }]);
  assert.equal(pc.configuration['bundlePolicy'], 'max-compat');
  assert.deepEqual(pc.legacyConstraints, { optional: [] });
});

test('events are typed (checked by tsc -p packages/sdk/tsconfig.test.json)', () => {
  const check = (stream: Stream): void => {
    stream.on(STREAM_STATUS.PLAYING, (s) => s.id()).on(STREAM_EVENT, (e) => e.payload?.streamerVideoWidth);
    // @ts-expect-error a status callback gets the Stream, not a string
    stream.on(STREAM_STATUS.PLAYING, (s: string) => s);
    // @ts-expect-error not an event of a Stream
    stream.on('ESTABLISHED', () => undefined);
    // @ts-expect-error status() is a literal union, never RESIZE
    const never: 'RESIZE' = stream.status();
    void never;
  };
  assert.equal(typeof check, 'function');
});
