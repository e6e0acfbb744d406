import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { MediaKind } from '../media/MediaTypes.js';
import type { MediaSink } from '../registry/MediaSink.js';
import { StreamRegistry } from '../registry/StreamRegistry.js';
import type { LiveStream } from '../registry/LiveStream.js';
import { writeRtpHeader } from '../rtp/RtpHeader.js';
import { Logger } from '../util/Logger.js';
import { EgressError } from './EgressError.js';
import { PushManager } from './PushManager.js';
import { pushTarget, redactIn, redactRtmpUrl } from './pushTarget.js';
import { writeFakeFfmpeg, type FakeFfmpegMode } from './testing/fakeFfmpeg.js';

const log = new Logger('silent');
const timers: NodeJS.Timeout[] = [];
after(() => timers.forEach(clearInterval));

test('target: rtmp_ prefix unless full URL; trailing slashes; names percent-encoded', () => {
  assert.equal(pushTarget('call-1', 'rtmp://h:1935/live', false), 'rtmp://h:1935/live/rtmp_call-1');
  assert.equal(pushTarget('call-1', 'rtmp://h/live//', false), 'rtmp://h/live/rtmp_call-1');
  assert.equal(pushTarget('a b', 'rtmp://h/live', false), 'rtmp://h/live/rtmp_a%20b');
  assert.equal(pushTarget('call-1', 'rtmps://h/live/custom', true), 'rtmps://h/live/custom');
  assert.equal(pushTarget('x', 'RTMP://h/live', false), 'RTMP://h/live/rtmp_x');
});

test('URLs in logs: user-info, query and stream keys hidden; generated rtmp_ names shown', () => {
  assert.equal(redactRtmpUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl'), 'rtmp://a.rtmp.youtube.com/live2/abc***');
  assert.equal(redactRtmpUrl('rtmps://user:pw@h:443/app/rtmp_call-1?token=x'), 'rtmps://h:443/app/rtmp_call-1?***');
  assert.equal(redactRtmpUrl('rtmp://h/app/'), 'rtmp://h/app/');
  assert.equal(redactIn('rtmp://h/live/secretkey: Connection refused', 'rtmp://h/live/secretkey'), 'rtmp://h/live/sec***: Connection refused');
});

test('target: missing, non-rtmp, host-less, whitespace -> 400', () => {
  for (const bad of ['', '   ', 'http://h/live', 'rtmp:/h', 'rtmp:///live', 'rtmp://h/li ve', 'file:///etc/passwd', 'rtmp://h/\u0000']) {
    assert.throws(() => pushTarget('s', bad, false), (e: unknown) => e instanceof EgressError && e.status === 400, bad);
  }
});

/** A stream fed with a few synthetic RTP packets per 20 ms (an SPS start every 10th video packet). */
function liveStream(registry: StreamRegistry, name: string, owner = 'demo'): LiveStream {
  const s = registry.create(name, owner);
  s.attachPublisher({ canProduceKeyframe: true, requestKeyframe: () => undefined }, {
    audio: { kind: 'audio', codec: 'PCMU', clockRate: 8000, channels: 1 },
    video: { kind: 'video', codec: 'H264', clockRate: 90000 },
  });
  let seq = 0;
  const t = setInterval(() => {
    if (s.ended) return;
    seq++;
    const v = Buffer.alloc(20);
    writeRtpHeader(v, { payloadType: 96, marker: true, seq, timestamp: seq * 1800, ssrc: 1 });
    v[12] = seq % 10 === 1 ? 0x67 : 0x41; // SPS (keyframe start) or a non-IDR slice
    s.pushRtp('video', v);
    const a = Buffer.alloc(172);
    writeRtpHeader(a, { payloadType: 0, marker: false, seq, timestamp: seq * 160, ssrc: 2 });
    s.pushRtp('audio', a);
  }, 20);
  timers.push(t);
  return s;
}

class CountingSink implements MediaSink {
  readonly id = 'viewer';
  readonly payloadTypes = { audio: 0, video: 96 };
  readonly got = { audio: 0, video: 0 };
  sendRtp(kind: MediaKind): void {
    this.got[kind]++;
  }
  sendRtcp(): void {}
  onResize(): void {}
  onStreamEnd(): void {}
}

function manager(registry: StreamRegistry, mode: FakeFfmpegMode, failMs?: number): PushManager {
  return new PushManager(registry, { ffmpegPath: writeFakeFfmpeg(mode, failMs), audioCodec: 'aac', log, keepEndedMs: 60_000 });
}

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('startup rules: 404 unknown stream, 409 same stream+target, other targets allowed', async () => {
  const registry = new StreamRegistry();
  const pushes = manager(registry, 'run');
  liveStream(registry, 's1');
  assert.throws(() => pushes.startup({ streamName: 'nope', rtmpUrl: 'rtmp://127.0.0.1/live' }), (e: unknown) => e instanceof EgressError && e.status === 404);
  const a = pushes.startup({ streamName: 's1', rtmpUrl: 'rtmp://127.0.0.1/live' });
  assert.equal(a.rtmpUrl, 'rtmp://127.0.0.1/live/rtmp_s1');
  assert.throws(() => pushes.startup({ streamName: 's1', rtmpUrl: 'rtmp://127.0.0.1/live/' }), (e: unknown) => e instanceof EgressError && e.status === 409);
  assert.throws(() => pushes.startup({ streamName: 's1', rtmpUrl: 'rtmp://127.0.0.1/live/rtmp_s1', fullUrl: true }), (e: unknown) => e instanceof EgressError && e.status === 409);
  const b = pushes.startForStream('s1', 'rtmp://127.0.0.1/app/other', { fullUrl: true });
  assert.equal(b.rtmpUrl, 'rtmp://127.0.0.1/app/other');
  assert.equal(pushes.isTargetInUse('rtmp://127.0.0.1/app/other'), true);
  assert.deepEqual(pushes.find({ rtmpUrl: 'rtmp://127.0.0.1/live' }).map((p) => p.mediaSessionId), [a.mediaSessionId]);
  await until('publishing', () => a.status === 'PUBLISHING' && b.status === 'PUBLISHING');
  await pushes.terminate(a.mediaSessionId);
  assert.equal(a.status, 'STOPPED');
  assert.equal(a.info, 'Stopped by rest /terminate');
  // after terminate the pair is free again; the ended push is still listed
  const c = pushes.startup({ streamName: 's1', rtmpUrl: 'rtmp://127.0.0.1/live' });
  assert.equal(pushes.list().length, 3);
  await assert.rejects(pushes.terminate(a.mediaSessionId), (e: unknown) => e instanceof EgressError && e.status === 404);
  await pushes.stop();
  assert.equal(c.ended, true);
  registry.endAll('test');
});

test('a writer failure ends the push FAILED "Failed by RTMP writer error"; the stream and its viewer go on', async () => {
  const registry = new StreamRegistry();
  const pushes = manager(registry, 'run-then-fail', 400);
  const s = liveStream(registry, 's2');
  const viewer = new CountingSink();
  s.addSink(viewer);
  const p = pushes.startup({ streamName: 's2', rtmpUrl: 'rtmp://127.0.0.1:1/live', options: { action: 'mute' } });
  assert.equal(p.muted, true);
  await until('failed', () => p.status === 'FAILED');
  const json = p.toJSON();
  assert.equal(json.info, 'Failed by RTMP writer error');
  assert.match(json.lastError ?? '', /Broken pipe/);
  assert.equal(pushes.find({ streamName: 's2' })[0], p, 'kept for find_all');
  const before = viewer.got.video;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.status, 'PUBLISHING');
  assert.ok(viewer.got.video > before, 'the viewer still gets video');
  assert.equal(s.sinkCount, 1, 'only the viewer is left on the stream');
  registry.endAll('test');
});

test('an ffmpeg that cannot even start (connection refused) -> FAILED', async () => {
  const registry = new StreamRegistry();
  const pushes = manager(registry, 'fail');
  liveStream(registry, 's3');
  const p = pushes.startup({ streamName: 's3', rtmpUrl: 'rtmp://127.0.0.1:1/live' });
  await until('failed', () => p.ended);
  assert.equal(p.status, 'FAILED');
  assert.equal(p.info, 'Failed by RTMP writer error');
  assert.match(p.toJSON().lastError ?? '', /Connection refused/);
  registry.endAll('test');
});

test('a reserved stream is pushed once it publishes; the stream ending stops the push', async () => {
  const registry = new StreamRegistry();
  const pushes = manager(registry, 'run');
  const s = registry.create('call-x', 'call:x');
  const p = pushes.startForStream('call-x', 'rtmp://127.0.0.1/live/x', { fullUrl: true });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(p.status, 'PENDING');
  s.attachPublisher({ canProduceKeyframe: false, requestKeyframe: () => undefined }, { audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 } });
  await until('publishing', () => p.status === 'PUBLISHING');
  s.end('Stopped by publisher stop');
  await until('stopped', () => p.ended);
  assert.equal(p.status, 'STOPPED');
  assert.equal(p.info, 'Stopped by publisher stop');
  // a reserved stream that ends before publishing
  const r = registry.create('call-y', 'call:y');
  const q = pushes.startForStream('call-y', 'rtmp://127.0.0.1/live/y', { fullUrl: true });
  r.end('Failed by error', true);
  await until('stopped', () => q.ended);
  assert.equal(q.status, 'STOPPED');
});

test('mute and unmute a live push; 404 once it ended', async () => {
  const registry = new StreamRegistry();
  const pushes = manager(registry, 'run');
  liveStream(registry, 's4');
  const p = pushes.startup({ streamName: 's4', rtmpUrl: 'rtmp://127.0.0.1/live' });
  await until('publishing', () => p.status === 'PUBLISHING');
  assert.equal(pushes.setMuted(p.mediaSessionId, true).muted, true);
  assert.equal(pushes.setMuted(p.mediaSessionId, false).muted, false);
  await pushes.terminate(p.mediaSessionId);
  assert.throws(() => pushes.setMuted(p.mediaSessionId, true), (e: unknown) => e instanceof EgressError && e.status === 404);
  registry.endAll('test');
});
