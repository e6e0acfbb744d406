import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadSettings } from './config/Settings.js';
import type { LiveStream } from './registry/LiveStream.js';
import { writeRtpHeader } from './rtp/RtpHeader.js';
import { SipcastServer } from './SipcastServer.js';
import { TestReceiver, WcsTestClient } from './testing/WcsTestClient.js';
import { Logger } from './util/Logger.js';

const SPS = Buffer.from(readFileSync(new URL('./rtp/fixtures/sps-base640x360.hex', import.meta.url), 'utf8').replace(/\s+/g, ''), 'hex');

let server: SipcastServer;
let url: string;
let feeder: NodeJS.Timeout;

/** Feeds `stream` like a softphone: 25 fps video with a keyframe on request, 50 opus pps. */
function feed(stream: LiveStream): NodeJS.Timeout {
  let vseq = 0;
  let aseq = 0;
  let frame = 0;
  let wantKey = true;
  stream.attachPublisher(
    {
      canProduceKeyframe: true,
      requestKeyframe: () => {
        wantKey = true;
      },
    },
    {
      audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
      video: { kind: 'video', codec: 'H264', clockRate: 90000 },
    },
  );
  const packet = (pt: number, seq: number, ts: number, payload: Buffer, marker: boolean): Buffer => {
    const b = Buffer.alloc(12 + payload.length);
    writeRtpHeader(b, { payloadType: pt, marker, seq, timestamp: ts, ssrc: 0xabc });
    payload.copy(b, 12);
    return b;
  };
  return setInterval(() => {
    frame++;
    const ts = frame * 3600;
    if (wantKey) {
      wantKey = false;
      stream.pushRtp('video', packet(96, vseq++, ts, SPS, false));
      stream.pushRtp('video', packet(96, vseq++, ts, Buffer.from([0x65, 0x88, 1, 2]), true));
    } else {
      stream.pushRtp('video', packet(96, vseq++, ts, Buffer.from([0x41, 0x9a, 1, 2]), true));
    }
    stream.pushRtp('audio', packet(111, aseq++, frame * 1920, Buffer.from([0xfc, 1]), false));
    stream.pushRtp('audio', packet(111, aseq++, frame * 1920 + 960, Buffer.from([0xfc, 2]), false));
  }, 40).unref();
}

before(async () => {
  const settings = loadSettings({ SIPCAST_WS_PORT: '0', SIPCAST_HTTP_PORT: '0', SIPCAST_DEMO: 'false', SIPCAST_DEMO_CALLEE: 'false', SIPCAST_SIP_PORT: '0', SIPCAST_PING_INTERVAL_MS: '200' });
  server = new SipcastServer(settings, new Logger('silent'));
  await server.start();
  url = `ws://127.0.0.1:${server.wsPort}`;
  feeder = feed(server.registry.create('cam', 'test'));
});

after(async () => {
  clearInterval(feeder);
  await server.stop();
});

test('handshake: connection -> getUserData with sessionId and authToken; ping is answered', async () => {
  const c = await WcsTestClient.connect(url);
  const user = await c.establish();
  assert.equal(typeof user['sessionId'], 'string');
  assert.equal(typeof user['authToken'], 'string');
  assert.equal(user['appKey'], 'defaultApp');
  await c.waitFor((f) => f.message === 'ping', 2000);
  c.close();
});

test('playStream: answer, PLAYING, RTP of both kinds reaches a WebRTC receiver, RESIZE 640x360, stop -> STOPPED', async () => {
  const c = await WcsTestClient.connect(url);
  await c.establish();
  const { rx, answerSdp: answer } = await c.play('cam');
  const id = rx.mediaSessionId;
  assert.match(answer, /a=candidate:.* 127\.0\.0\.1 \d+ typ host/);
  assert.match(answer, /a=rtpmap:102 H264\/90000/);
  assert.match(answer, /a=setup:passive/, 'server takes the DTLS server role (GCM)');
  await c.status(id, 'PLAYING');
  const resize = await c.status(id, 'RESIZE', 8000);
  assert.equal(resize['playerVideoWidth'], 640);
  assert.equal(resize['playerVideoHeight'], 360);
  const ev = await c.waitFor((f) => f.message === 'notifyStreamEvent');
  assert.deepEqual((ev.data[0] as Record<string, unknown>)['payload'], { streamerVideoWidth: 640, streamerVideoHeight: 360 });
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(rx.received.video > 10, `video packets ${rx.received.video}`);
  assert.ok(rx.received.audio > 20, `audio packets ${rx.received.audio}`);
  assert.equal(server.registry.get('cam')?.sinkCount, 1);
  c.send('stopStream', { mediaSessionId: id, name: 'cam' });
  const stopped = await c.status(id, 'STOPPED');
  assert.equal(stopped['info'], 'Stopped by user');
  assert.equal(server.registry.get('cam')?.sinkCount, 0);
  rx.close();
  c.close();
});

test('unknown stream -> FAILED "Stream not found"; the session keeps working', async () => {
  const c = await WcsTestClient.connect(url);
  await c.establish();
  const rx = new TestReceiver();
  c.send('playStream', { mediaSessionId: 'x1', name: 'nope', sdp: await rx.offer() });
  assert.equal((await c.status('x1', 'FAILED'))['info'], 'Stream not found');
  c.send('availableStream', { mediaSessionId: 'x2', name: 'cam' });
  const avail = await c.waitFor((f) => f.message === 'availableStream');
  assert.equal((avail.data[0] as Record<string, unknown>)['status'], 'true');
  rx.close();
  c.close();
});

test('bad input gets clear answers and never breaks the server', async () => {
  const c = await WcsTestClient.connect(url);
  c.sendRaw('{not json');
  c.sendRaw(JSON.stringify({ data: [] }));
  c.send('noSuchMethod', {});
  c.send('playStream', { mediaSessionId: 'early', name: 'cam', sdp: 'v=0' });
  await c.status('early', 'FAILED').then((s) => assert.equal(s['info'], 'Session not ready'));
  await c.establish();
  c.send('playStream', { name: 'cam', sdp: 'v=0' });
  c.send('playStream', { mediaSessionId: 'garbage-sdp', name: 'cam', sdp: 'hello' });
  c.send('playStream', { mediaSessionId: 'no-sdp', name: 'cam' });
  const g = await c.status('garbage-sdp', 'FAILED');
  assert.match(String(g['info']), /SDP/);
  await c.status('no-sdp', 'FAILED');
  const fails = c.frames.filter((f) => f.message === 'fail').map((f) => (f.data[0] as Record<string, unknown>)['info']);
  assert.ok(fails.includes('Malformed JSON frame'));
  assert.ok(fails.some((i) => String(i).startsWith('Unknown method')));
  assert.ok(fails.includes('MediaSessionId is null'));
  // Stopping something unknown still settles the client's state.
  c.send('stopStream', { mediaSessionId: 'never', name: 'x' });
  await c.status('never', 'STOPPED');
  c.close();
  // Another client is unaffected.
  const d = await WcsTestClient.connect(url);
  await d.establish();
  d.close();
});

test('the stream ending stops its viewers with "Stopped by publisher stop"; a closed session releases its viewers', async () => {
  const stream = server.registry.create('short', 'test');
  const t = feed(stream);
  const c = await WcsTestClient.connect(url);
  await c.establish();
  const { rx } = await c.play('short');
  for (let i = 0; i < 100 && stream.sinkCount === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(stream.sinkCount, 1);
  clearInterval(t);
  stream.end('Stopped by publisher stop');
  const s = await c.status(rx.mediaSessionId, 'STOPPED');
  assert.equal(s['info'], 'Stopped by publisher stop');
  rx.close();
  // Session close -> viewer released.
  const { rx: rx2 } = await c.play('cam');
  const cam = server.registry.get('cam')!;
  for (let i = 0; i < 100 && cam.sinkCount === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(cam.sinkCount, 1);
  c.close();
  for (let i = 0; i < 40 && cam.sinkCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(cam.sinkCount, 0);
  rx2.close();
});

test('REST /stream/find_all and /stream/find', async () => {
  const base = `http://127.0.0.1:${server.httpPort}/rest-api`;
  const all = await fetch(`${base}/stream/find_all`, { method: 'POST' });
  assert.equal(all.status, 200);
  const list = (await all.json()) as Record<string, unknown>[];
  const cam = list.find((s) => s['name'] === 'cam')!;
  assert.equal(cam['videoCodec'], 'H264');
  assert.equal(cam['width'], 640);
  const one = await fetch(`${base}/stream/find`, { method: 'POST', body: JSON.stringify({ name: 'cam' }) });
  assert.equal(one.status, 200);
  const none = await fetch(`${base}/stream/find`, { method: 'POST', body: JSON.stringify({ name: 'zzz' }) });
  assert.equal(none.status, 404);
  assert.equal(((await none.json()) as Record<string, unknown>)['error'], 'not_found');
  const bad = await fetch(`${base}/stream/find`, { method: 'POST', body: '{oops' });
  assert.equal(bad.status, 400);
  const badField = await fetch(`${base}/stream/find`, { method: 'POST', body: JSON.stringify({ name: 5 }) });
  assert.equal(badField.status, 400);
  assert.match(((await badField.json()) as Record<string, string>)['message']!, /name/);
  const traversal = await fetch(`http://127.0.0.1:${server.httpPort}/player/..%2f..%2fpackage.json`);
  assert.equal(traversal.status, 404);
});
