/**
 * Record and republish (issue 4), end to end: RTMP push to a real nginx-rtmp read back with ffprobe, a push to a
 * dead RTMP port, recordings checked with ffprobe and played by Chromium, SIGTERM/SIGKILL during a recording, and
 * the record download's path checks.
 *
 * The server is the built one (packages/server/dist/main.js), REST and record downloads on its HTTP port. Sources: the built-in looping `demo` stream (H.264
 * 640x360 + opus, IDR every 10 s, joined from its cached GOP) and calls to the built-in demo SIP callee.
 *
 * Ports: everything on free ports (0), SIP-side RTP 33000-33199 (33200-33399 for the servers that get signals),
 * nginx-rtmp from 12935 / stat 12980.
 */
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect, test, type TestInfo } from '@playwright/test';
import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import { WcsTestClient } from '../../packages/server/src/testing/WcsTestClient';
import {
  TOKEN,
  arr,
  audioOf,
  expectH264Aac,
  obj,
  playInChromium,
  probeRtmp,
  rawGet,
  rest,
  rtmpMaxVolume,
  startEgressServer,
  until,
  type EgressServer,
  type Obj,
} from './support/egress';
import { ffprobe, requirePeers, startNginxRtmp, type NginxRtmp } from './support/peers';
import { runBounded, sleep } from './support/peers/process';

/**
 * A recvonly node-datachannel viewer that counts RTP per kind. Unlike WcsTestClient's TestReceiver it keeps
 * references to its tracks: node-datachannel drops a garbage-collected track's onMessage callback, which makes
 * counts stop after the first GC of a long test.
 */
class Viewer {
  readonly mediaSessionId = randomUUID();
  readonly received = { audio: 0, video: 0 };
  readonly #pc: PeerConnection;
  readonly #tracks: Track[];

  constructor() {
    this.#pc = new PeerConnection(this.mediaSessionId, { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
    const audio = new Audio('0', 'RecvOnly');
    audio.addOpusCodec(111);
    const video = new Video('1', 'RecvOnly');
    video.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
    this.#tracks = [this.#pc.addTrack(audio), this.#pc.addTrack(video)];
    this.#tracks[0]!.onMessage((m) => this.#count('audio', m));
    this.#tracks[1]!.onMessage((m) => this.#count('video', m));
  }

  /** Plays `name` through `client` (playStream with this viewer's offer, then its answer). */
  async play(client: WcsTestClient, name: string): Promise<void> {
    const gathered = new Promise<void>((resolve) => this.#pc.onGatheringStateChange((st) => st === 'complete' && resolve()));
    this.#pc.setLocalDescription('offer');
    if (this.#pc.gatheringState() !== 'complete') await gathered;
    const sdp = this.#pc.localDescription()!.sdp;
    client.send('playStream', { mediaSessionId: this.mediaSessionId, name, published: false, hasVideo: true, hasAudio: true, status: 'PENDING', sdp });
    const f = await client.waitFor((x) => x.message === 'setRemoteSDP' && x.data[0] === this.mediaSessionId, 10_000);
    this.#pc.setRemoteDescription(String(f.data[1]), 'answer');
  }

  close(): void {
    this.#pc.close();
  }

  #count(kind: 'audio' | 'video', m: Buffer): void {
    const pt = m[1]!;
    if (pt >= 192 && pt <= 223) return; // RTCP
    this.received[kind]++;
  }
}


let server: EgressServer | undefined;
let rtmp: NginxRtmp | undefined;
let extra: EgressServer | undefined;

async function attachLogs(testInfo: TestInfo): Promise<void> {
  if (testInfo.status === testInfo.expectedStatus) return;
  for (const [n, s] of [['egress-server', server], ['extra-server', extra]] as const) {
    if (s) await testInfo.attach(`${n}.log`, { body: s.logs(), contentType: 'text/plain' });
  }
  if (rtmp) await testInfo.attach('nginx.log', { body: rtmp.logs(), contentType: 'text/plain' });
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  requirePeers(['nginxRtmp', 'ffmpeg', 'ffprobe']);
  test.setTimeout(90_000);
  rtmp = await startNginxRtmp({ port: 12935, statPort: 12980 });
  server = await startEgressServer('main', { SIPCAST_RECORD_SIP_STREAMS: 'true' });
});

test.afterEach(async ({}, testInfo) => {
  await attachLogs(testInfo);
  await extra?.stop();
  extra = undefined;
});

test.afterAll(async () => {
  await server?.stop();
  await rtmp?.stop();
});

test('push demo to nginx-rtmp: ffprobe reads h264 640x360 + aac; 409 duplicate; 400/404; mute gives silence; terminate', async () => {
  test.setTimeout(120_000);
  const base = server!.egressUrl;
  const start = await rest(base, 'push/startup', { streamName: 'demo', rtmpUrl: rtmp!.baseUrl });
  expect(start.status, JSON.stringify(start.json)).toBe(200);
  const push = obj(start);
  expect(push).toMatchObject({ streamName: 'demo', rtmpUrl: rtmp!.url('rtmp_demo'), width: 640, height: 360, muted: false, soundEnabled: false, options: {} });
  expect(typeof push['mediaSessionId']).toBe('string');

  expect((await rest(base, 'push/startup', { streamName: 'demo', rtmpUrl: `${rtmp!.baseUrl}/` })).status).toBe(409);
  expect((await rest(base, 'push/startup', { streamName: 'demo', rtmpUrl: rtmp!.url('rtmp_demo'), rtmpTransponderFullUrl: 'true' })).status).toBe(409);
  expect((await rest(base, 'push/startup', { streamName: 'demo' })).status).toBe(400);
  expect((await rest(base, 'push/startup', { streamName: 'demo', rtmpUrl: 'http://127.0.0.1/live' })).status).toBe(400);
  expect((await rest(base, 'push/startup', { streamName: 'no-such-stream', rtmpUrl: rtmp!.baseUrl })).status).toBe(404);

  await rtmp!.waitForStream('rtmp_demo', 15_000, true);
  const info = await probeRtmp(rtmp!.url('rtmp_demo'));
  expectH264Aac(info);
  expect(audioOf(info)?.sample_rate).toBe('48000');

  const found = await rest(base, 'push/find', { streamName: 'demo', rtmpUrl: rtmp!.baseUrl });
  expect(arr(found)[0]).toMatchObject({ mediaSessionId: push['mediaSessionId'], status: 'PUBLISHING', audioCodec: 'aac' });
  const getAll = await rest(base, 'push/find_all');
  expect(arr(getAll).length).toBeGreaterThanOrEqual(1);

  // mute: the FLV audio track goes on, with silence; unmute brings the sound back
  expect(obj(await rest(base, 'push/mute', { mediaSessionId: push['mediaSessionId'] }))['muted']).toBe(true);
  await sleep(1500);
  const mutedDb = await rtmpMaxVolume(rtmp!.url('rtmp_demo'), 3);
  expect(mutedDb, 'muted peak level').toBeLessThan(-70);
  expect(obj(await rest(base, 'push/unmute', { mediaSessionId: push['mediaSessionId'] }))['muted']).toBe(false);
  await sleep(1500);
  const loudDb = await rtmpMaxVolume(rtmp!.url('rtmp_demo'), 3);
  expect(loudDb, 'unmuted peak level').toBeGreaterThan(-40);

  const term = await rest(base, 'push/terminate', { mediaSessionId: push['mediaSessionId'] });
  expect(term.status).toBe(200);
  expect(obj(term)).toMatchObject({ status: 'STOPPED', info: 'Stopped by rest /terminate' });
  expect((await rest(base, 'push/terminate', { mediaSessionId: push['mediaSessionId'] })).status).toBe(404);
  await until('nginx sees the publisher leave', () => rtmp!.streams(), (s) => !s.some((x) => x.name === 'rtmp_demo' && x.publishing));
  const after = arr(await rest(base, 'push/find_all')).find((p) => p['mediaSessionId'] === push['mediaSessionId']);
  expect(after?.['status'], 'ended pushes stay listed').toBe('STOPPED');
});

test('push to a dead RTMP port: FAILED "Failed by RTMP writer error" while the demo keeps PUBLISHING to its viewer', async () => {
  const base = server!.egressUrl;
  const client = await WcsTestClient.connect(server!.wsUrl);
  const rx = new Viewer();
  try {
    await client.establish();
    await rx.play(client, 'demo');
    await client.status(rx.mediaSessionId, 'PLAYING', 10_000);
    await until('viewer gets media', async () => rx.received.video, (n) => n > 20);

    const start = await rest(base, 'push/startup', { streamName: 'demo', rtmpUrl: 'rtmp://127.0.0.1:1/live' });
    expect(start.status).toBe(200);
    const id = obj(start)['mediaSessionId'];
    const failed = await until(
      'the push to fail',
      async () => arr(await rest(base, 'push/find_all')).find((p) => p['mediaSessionId'] === id),
      (p) => p?.['status'] === 'FAILED',
    );
    expect(failed).toMatchObject({ status: 'FAILED', info: 'Failed by RTMP writer error', rtmpUrl: 'rtmp://127.0.0.1:1/live/rtmp_demo' });
    expect(String(failed?.['lastError'])).toMatch(/Connection refused/);
    expect(server!.logs()).toMatch(/failed: .*Connection refused/);

    const before = { ...rx.received };
    await sleep(1500);
    expect(rx.received.video, 'the viewer still receives video').toBeGreaterThan(before.video + 10);
    expect(rx.received.audio, 'and audio').toBeGreaterThan(before.audio + 10);
    const stream = arr(await rest(base, 'stream/find', { name: 'demo' }))[0];
    expect(stream).toMatchObject({ status: 'PUBLISHING', name: 'demo' });
    expect(Number(stream?.['viewers'])).toBeGreaterThanOrEqual(1);
    expect(client.frames.some((f) => f.message === 'notifyStreamStatusEvent' && ['FAILED', 'STOPPED'].includes(String((f.data[0] as Obj)['status'])))).toBe(false);
  } finally {
    rx.close();
    client.close();
  }
});

test('a 10 s recording: ffprobe h264 640x360 + aac, 10 s ± 1 s; downloaded with and without Range; plays to its end in Chromium', async ({ page }) => {
  test.setTimeout(90_000);
  const base = server!.egressUrl;
  const start = await rest(base, 'recorder/startup', { streamName: 'demo' });
  expect(start.status, JSON.stringify(start.json)).toBe(200);
  expect(String(obj(start)['recordName'])).toMatch(/^demo-\d+\.part\.mp4$/);
  expect((await rest(base, 'recorder/startup', { streamName: 'demo' })).status).toBe(409);
  expect((await rest(base, 'recorder/startup', { streamName: 'nope' })).status).toBe(404);
  expect((await rest(base, 'recorder/startup', {})).status).toBe(400);
  await sleep(10_000);
  const live = arr(await rest(base, 'recorder/find_all')).find((r) => r['streamName'] === 'demo' && r['status'] === 'RECORDING');
  expect(live, 'listed while recording').toBeTruthy();
  const term = await rest(base, 'recorder/terminate', { streamName: 'demo' });
  expect(term.status, JSON.stringify(term.json)).toBe(200);
  const rec = obj(term);
  expect(rec).toMatchObject({ status: 'DONE', info: 'Stopped by rest /terminate', streamName: 'demo' });
  const name = String(rec['recordName']);
  expect(name).toMatch(/^demo-\d+\.mp4$/);
  expect((await rest(base, 'recorder/terminate', { streamName: 'demo' })).status).toBe(404);

  const file = path.join(server!.recordDir, name);
  expect(readdirSync(server!.recordDir)).toEqual([name]);
  expectH264Aac(await ffprobe(file), 10, 1);

  // download: whole file, then a range
  const url = `${base}/client/records/${name}`;
  const whole = await rawGet(url, { authorization: `Bearer ${TOKEN}` });
  expect(whole.status).toBe(200);
  expect(whole.body.length).toBe(statSync(file).size);
  expect(whole.headers['content-type']).toBe('video/mp4');
  const part = await rawGet(url, { authorization: `Bearer ${TOKEN}`, range: 'bytes=100-1099' });
  expect(part.status).toBe(206);
  expect(part.headers['content-range']).toBe(`bytes 100-1099/${whole.body.length}`);
  expect(part.body.equals(whole.body.subarray(100, 1100))).toBe(true);
  expect((await rawGet(url, { authorization: `Bearer ${TOKEN}`, range: `bytes=${whole.body.length}-` })).status).toBe(416);
  expect((await rawGet(url, {})).status).toBe(401);

  const played = await playInChromium(page, url);
  test.info().annotations.push({ type: 'chromium playback', description: JSON.stringify(played) });
  expect(played.width).toBe(640);
  expect(played.height).toBe(360);
  expect(Math.abs(played.duration - 10), `duration ${played.duration}`).toBeLessThanOrEqual(1);
  expect(played.ended, JSON.stringify(played)).toBe(true);
  expect(played.currentTime).toBeGreaterThan(played.duration - 0.2);
  expect(played.decoded, 'frames decoded').toBeGreaterThan(150);
  expect(played.painted, 'frames presented').toBeGreaterThan(20);
  expect(played.ranges.length, 'Chromium fetched with Range requests').toBeGreaterThan(0);
});

test('record names: ../ and friends -> 400/404, nothing outside the records directory', async () => {
  const base = server!.egressUrl;
  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const p of ['..%2f..%2fpackage.json', '%2e%2e%2f%2e%2e%2fpackage.json', '..%5cpackage.json', '%2fetc%2fpasswd', 'x%00.mp4', '.hidden', '%252e%252e%252fpackage.json']) {
    const r = await rawGet(`${base}/client/records/${p}`, auth);
    expect([400, 404], `${p} -> ${r.status}`).toContain(r.status);
    expect(r.body.toString()).not.toContain('"workspaces"');
  }
  const raw = await rawGet(`${base}/client/records/../../package.json`, auth);
  expect([400, 404]).toContain(raw.status);
  expect(raw.body.toString()).not.toContain('"workspaces"');
  expect((await rawGet(`${base}/client/records/missing.mp4`, auth)).status).toBe(404);
});

test('SIGTERM during a recording leaves a final MP4 that plays; SIGKILL leaves a fragmented one that plays', async ({ page }) => {
  test.setTimeout(120_000);
  // SIGTERM: the server finalises (remux with faststart) before it exits
  extra = await startEgressServer('sigterm', { SIPCAST_RTP_PORT_MIN: '33200', SIPCAST_RTP_PORT_MAX: '33399', SIPCAST_DEMO_CALLEE: 'false' });
  expect((await rest(extra.egressUrl, 'recorder/startup', { streamName: 'demo' })).status).toBe(200);
  await sleep(5000);
  extra.proc.kill('SIGTERM');
  expect(await extra.exited).toEqual({ code: 0, signal: null });
  const files = readdirSync(extra.recordDir);
  expect(files, 'one final file, no .part').toHaveLength(1);
  expect(files[0]).toMatch(/^demo-\d+\.mp4$/);
  const termFile = path.join(extra.recordDir, files[0]!);
  expectH264Aac(await ffprobe(termFile), 5, 1);
  copyFileSync(termFile, path.join(server!.recordDir, `sigterm-${files[0]}`));
  const played = await playInChromium(page, `${server!.egressUrl}/client/records/sigterm-${files[0]}`);
  expect(played.ended, JSON.stringify(played)).toBe(true);
  expect(played.decoded).toBeGreaterThan(50);
  await extra.stop();

  // SIGKILL: nothing finalises; ffmpeg notices its silent input after 10 s and closes the fragmented file
  extra = await startEgressServer('sigkill', { SIPCAST_RTP_PORT_MIN: '33200', SIPCAST_RTP_PORT_MAX: '33399', SIPCAST_DEMO_CALLEE: 'false' });
  const rec = obj(await rest(extra.egressUrl, 'recorder/startup', { streamName: 'demo' }));
  const partName = String(rec['recordName']);
  expect(partName).toMatch(/\.part\.mp4$/);
  await sleep(5000);
  extra.proc.kill('SIGKILL');
  await extra.exited;
  const partFile = path.join(extra.recordDir, partName);
  expect(existsSync(partFile)).toBe(true);
  await until(
    'the orphaned ffmpeg to exit',
    async () => (await runBounded('ps', 'ps', ['-eo', 'args='], { timeoutMs: 5000 })).stdout.includes(partName),
    (running) => !running,
    30_000,
  );
  const killed = await ffprobe(partFile);
  expectH264Aac(killed);
  expect(Number(killed.format?.duration), 'all but the last second').toBeGreaterThan(3.5);
  copyFileSync(partFile, path.join(server!.recordDir, 'sigkill-demo.mp4'));
  await page.goto('about:blank');
  const fragPlayed = await playInChromium(page, `${server!.egressUrl}/client/records/sigkill-demo.mp4`);
  expect(fragPlayed.decoded, JSON.stringify(fragPlayed)).toBeGreaterThan(50);
  expect(fragPlayed.currentTime).toBeGreaterThan(3.5);
});

test('sip_record_stream: a call to the demo callee is recorded automatically; a reserved call stream is pushed once media flows', async () => {
  test.setTimeout(90_000);
  const main = server!.httpUrl;
  const base = server!.egressUrl;
  const domain = server!.demoCallee.replace(/^sip:demo@/, '');
  expect(domain).toMatch(/^127\.0\.0\.1:\d+$/);
  const startup = await rest(main, 'call/startup', { callId: 'egress-1', callee: 'demo', toStream: 'call-egress-1', sipLogin: 'caller', sipDomain: domain });
  expect(startup.status, JSON.stringify(startup.json)).toBe(200);
  // pushed while only reserved (or just published)
  const push = await rest(base, 'push/startup', { streamName: 'call-egress-1', rtmpUrl: rtmp!.baseUrl });
  expect(push.status, JSON.stringify(push.json)).toBe(200);
  await rtmp!.waitForStream('rtmp_call-egress-1', 20_000, true);
  const info = await probeRtmp(rtmp!.url('rtmp_call-egress-1'));
  expectH264Aac(info);

  const rec = await until(
    'an automatic recording',
    async () => arr(await rest(base, 'recorder/find_all')).find((r) => r['streamName'] === 'call-egress-1'),
    (r) => r?.['status'] === 'RECORDING',
  );
  expect(rec?.['auto']).toBe(true);
  await sleep(3000);
  expect((await rest(main, 'call/terminate', { callId: 'egress-1' })).status).toBe(200);
  const done = await until(
    'the recording to be final',
    async () => arr(await rest(base, 'recorder/find_all')).find((r) => r['id'] === rec?.['id']),
    (r) => r?.['status'] === 'DONE',
  );
  expect(done?.['info']).toBe('Stopped by publisher stop');
  expectH264Aac(await ffprobe(path.join(server!.recordDir, String(done?.['recordName']))));
  const pushEnd = arr(await rest(base, 'push/find', { streamName: 'call-egress-1' }))[0];
  expect(pushEnd).toMatchObject({ status: 'STOPPED', info: 'Stopped by publisher stop' });
});
