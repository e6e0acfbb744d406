/**
 * Record and republish of SIP call streams (issue 4, "Tests"), end to end with real peers: sipcast's SIP UA ->
 * Kamailio (digest auth) -> a baresip callee (H.264 640x360 25 fps + opus or PCMU) -> the call's stream -> ffmpeg ->
 * nginx-rtmp (read back with ffprobe) or an MP4 in the records directory (ffprobe, then downloaded and played by
 * Chromium); and the sip-as-rtmp page pushing a call to the built-in demo callee.
 *
 *  1. "SIP as RTMP": `/call/startup` with rtmpUrl + rtmpStream (opus) -> rtmp://…/live/<rtmpStream>: h264 + aac.
 *  2. `/push/startup` of a PCMU call -> rtmp://…/live/rtmp_<stream>: h264 + aac (push_audio_codec is the default
 *     `aac`: G.711 goes as AAC, docs/recording-and-push.md "Containers and codecs").
 *  3. A push to a dead RTMP port fails ("Failed by RTMP writer error") while a Chromium Player keeps decoding.
 *  4. A 10 s call recorded by `sip_record_stream` (SIPCAST_RECORD_SIP_STREAMS=true): ffprobe, download, Chromium.
 *  5. The sip-as-rtmp page: call the demo callee, Start / mute / unmute / Stop the RTMP push.
 *
 * One server for the file (the built one, support/egress.ts: REST token, records in its run directory), with
 * sip_record_stream on, so every call of this file is also recorded (as in the field with that setting).
 *
 * Ports of this file (first free from): sipcast HTTP/WS/SIP/demo callee on free ports (0), sipcast RTP 34000-34199,
 * Kamailio 27060, baresip SIP 27070 / ctrl 27150 / RTP 27200-27239, nginx-rtmp 13935 / stat 13980, the dead RTMP
 * port from 13990 (picked free, nothing listens on it).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
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
import { describeStats, instrumentPage, pcStats, waitForDecodedFrames, type PcSnapshot } from './support/media';
import {
  ffprobe,
  pickPort,
  requirePeers,
  startBaresip,
  startKamailio,
  startNginxRtmp,
  type Baresip,
  type BaresipAudioCodec,
  type Kamailio,
  type NginxRtmp,
} from './support/peers';
import { runBounded, sleep } from './support/peers/process';
import { callIds } from './support/sip/calls';

/** The first decoded frame may need a keyframe from the callee (baresip's own GOP is ~10 s). */
const FIRST_FRAME_MS = 15_000;
/** The sip-as-rtmp page polls /call/find 1 s after the startup, then every 5 s. */
const PAGE_STATUS_MS = 20_000;

let server: EgressServer;
let rtmp: NginxRtmp;
let kam: Kamailio;

/** What a test started (stopped in reverse order by afterEach, logs attached on failure), and its calls. */
let started: { name: string; logs(): string; stop(): Promise<unknown> }[] = [];
let calls: string[] = [];

test.beforeAll(async () => {
  requirePeers(['kamailio', 'baresip', 'nginxRtmp', 'ffmpeg', 'ffprobe']);
  test.setTimeout(90_000);
  [kam, rtmp] = await Promise.all([startKamailio({ port: 27060 }), startNginxRtmp({ port: 13935, statPort: 13980 })]);
  server = await startEgressServer('sip', {
    SIPCAST_RTP_PORT_MIN: '34000',
    SIPCAST_RTP_PORT_MAX: '34199',
    SIPCAST_RECORD_SIP_STREAMS: 'true',
  });
});

test.afterEach(async ({}, testInfo) => {
  for (const callId of calls) await rest(server.httpUrl, 'call/terminate', { callId }).catch(() => undefined);
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach('sipcast.log', { body: server.logs(), contentType: 'text/plain' });
    await testInfo.attach('nginx.log', { body: rtmp.logs(), contentType: 'text/plain' });
    await testInfo.attach('kamailio.log', { body: kam.logs(), contentType: 'text/plain' });
    for (const s of started) await testInfo.attach(`${s.name}.log`, { body: s.logs(), contentType: 'text/plain' });
  }
  started = [];
  calls = [];
});

test.afterAll(async () => {
  await server?.stop();
  await rtmp?.stop();
  await kam?.stop();
});

// ---- helpers --------------------------------------------------------------------------------------

/** baresip bob registered at Kamailio, answering with `codecs` only. */
async function startBob(codecs: BaresipAudioCodec[]): Promise<Baresip> {
  const bob = await startBaresip({
    name: 'bob',
    registrar: { host: kam.host, port: kam.port, transport: 'udp' },
    audioCodecs: codecs,
    sipPort: 27070,
    ctrlPort: 27150,
    rtpPorts: [27200, 27239],
  });
  started.push({ name: 'baresip-bob', logs: () => bob.logs(), stop: () => bob.stop() });
  await kam.waitForRegistration('bob', 5_000);
  return bob;
}

/** alice (via Kamailio) calls bob by REST; resolves with the ESTABLISHED Call object and the call's ids. */
async function callBob(label: string, extra: Record<string, unknown> = {}): Promise<{ callId: string; toStream: string; call: Obj }> {
  const { callId, toStream } = callIds(label);
  const body = {
    callId,
    toStream,
    callee: 'bob',
    sipLogin: 'alice',
    sipPassword: 'secret1',
    sipDomain: kam.hostport,
    sipOutboundProxy: kam.hostport,
    ...extra,
  };
  const r = await rest(server.httpUrl, 'call/startup', body);
  expect(r.status, `/call/startup: ${JSON.stringify(r.json)}`).toBe(200);
  calls.push(callId);
  return { callId, toStream, call: await waitCall(callId, 'ESTABLISHED') };
}

/** Polls /call/find until the call has `status`; fails with the call's server log lines otherwise. */
async function waitCall(callId: string, status: string, timeoutMs = 15_000): Promise<Obj> {
  try {
    const c = await until(
      `call ${callId} ${status}`,
      async () => arr(await rest(server.httpUrl, 'call/find', { callId }))[0],
      (x) => x?.['status'] === status,
      timeoutMs,
    );
    return c!;
  } catch (err) {
    const lines = server.logs().split('\n').filter((l) => l.includes(`call ${callId}:`));
    throw new Error(`${(err as Error).message}\nserver log: ${lines.join('\n') || 'nothing'}`);
  }
}

/** The push of `streamName` in /push/find_all (the newest one if there are several). */
async function pushOf(streamName: string): Promise<Obj | undefined> {
  return arr(await rest(server.httpUrl, 'push/find_all'))
    .filter((p) => p['streamName'] === streamName)
    .pop();
}

async function waitPush(streamName: string, status: string, timeoutMs = 15_000): Promise<Obj> {
  return (await until(`push of ${streamName} ${status}`, () => pushOf(streamName), (p) => p?.['status'] === status, timeoutMs))!;
}

/** Waits until nginx-rtmp no longer has a publisher on `name`. */
async function waitRtmpGone(name: string): Promise<void> {
  await until(`nginx sees the publisher of ${name} leave`, () => rtmp.streams(), (s) => !s.some((x) => x.name === name && x.publishing));
}

/** Decoder errors of ffmpeg decoding `file` completely (ffmpeg -v error; the null muxer's dts notices left out). */
async function decodeErrors(file: string): Promise<string[]> {
  const r = await runBounded('ffmpeg decode', 'ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { timeoutMs: 30_000 });
  return r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/non monotonically increasing dts to muxer|Last message repeated/.test(l));
}

/** Sizes of the video packets of `file`, in order. */
async function videoPacketSizes(file: string): Promise<number[]> {
  const r = await runBounded('ffprobe packets', 'ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=size', '-of', 'csv=p=0', file], { timeoutMs: 15_000 });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** The Player page on `stream`, playing, with video frames decoded. */
async function openPlayer(page: Page, stream: string): Promise<PcSnapshot> {
  await instrumentPage(page);
  await page.goto(`${server.httpUrl}/player/?streamName=${encodeURIComponent(stream)}&autoplay`, { waitUntil: 'domcontentloaded' });
  await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  return waitForDecodedFrames(page, 1, FIRST_FRAME_MS);
}

// ---- 1. SIP as RTMP (opus) ------------------------------------------------------------------------

test('SIP as RTMP: a baresip call (opus) with rtmpUrl + rtmpStream in /call/startup -> nginx-rtmp reads h264 640x360 + aac; /push/find_all lists it', async () => {
  test.setTimeout(60_000);
  await startBob(['opus']);
  const rtmpStream = `sipas-${Date.now().toString(36)}`;
  const { callId, toStream, call } = await callBob('sipas', { rtmpUrl: rtmp.baseUrl, rtmpStream });
  expect(call).toMatchObject({ audioCodec: 'opus', videoCodec: 'H264', rtmpUrl: rtmp.baseUrl, rtmpStream });

  const seen = await rtmp.waitForStream(rtmpStream, 20_000, true);
  const info = await probeRtmp(rtmp.url(rtmpStream));
  expectH264Aac(info);
  expect(audioOf(info)).toMatchObject({ sample_rate: '48000', channels: 2 });
  console.log(`[sip as rtmp] nginx: ${JSON.stringify(seen)}; ffprobe: ${JSON.stringify(info.streams.map((s) => [s.codec_name, s.width ?? s.sample_rate, s.height ?? s.channels]))}`);

  const push = await pushOf(toStream);
  expect(push, 'the call\'s push in /push/find_all').toMatchObject({
    streamName: toStream,
    rtmpUrl: rtmp.url(rtmpStream),
    status: 'PUBLISHING',
    audioCodec: 'aac',
    width: 640,
    height: 360,
    muted: false,
  });

  // the push ends with the call
  expect((await rest(server.httpUrl, 'call/terminate', { callId })).status).toBe(200);
  expect(await waitPush(toStream, 'STOPPED')).toMatchObject({ info: 'Stopped by publisher stop' });
  await waitRtmpGone(rtmpStream);
});

// ---- 2. /push/startup of a PCMU call ----------------------------------------------------------------

test('push of a baresip call with PCMU (/push/startup) -> rtmp_<stream>: h264 640x360 + aac (G.711 transcoded, the default)', async () => {
  test.setTimeout(60_000);
  await startBob(['PCMU']);
  const { toStream, call } = await callBob('pcmu');
  expect(call).toMatchObject({ audioCodec: 'PCMU', videoCodec: 'H264' });

  const start = await rest(server.httpUrl, 'push/startup', { streamName: toStream, rtmpUrl: rtmp.baseUrl });
  expect(start.status, JSON.stringify(start.json)).toBe(200);
  const target = `rtmp_${toStream}`;
  expect(obj(start)).toMatchObject({ streamName: toStream, rtmpUrl: rtmp.url(target) });

  await rtmp.waitForStream(target, 20_000, true);
  const info = await probeRtmp(rtmp.url(target));
  expectH264Aac(info);
  // docs: "AAC-LC 64 kbit/s, 48 kHz, 1 ch" from PCMU / PCMA
  expect(audioOf(info)).toMatchObject({ sample_rate: '48000', channels: 1 });
  expect(await waitPush(toStream, 'PUBLISHING')).toMatchObject({ audioCodec: 'aac', rtmpUrl: rtmp.url(target) });

  const term = await rest(server.httpUrl, 'push/terminate', { mediaSessionId: obj(start)['mediaSessionId'] });
  expect(term.status, JSON.stringify(term.json)).toBe(200);
  expect(obj(term)).toMatchObject({ status: 'STOPPED', info: 'Stopped by rest /terminate' });
  await waitRtmpGone(target);
  expect((await waitCall(call['callId'] as string, 'ESTABLISHED'))['status'], 'the call goes on without its push').toBe('ESTABLISHED');
});

// ---- 3. dead RTMP port ------------------------------------------------------------------------------

test('push of a baresip call to a dead RTMP port: FAILED "Failed by RTMP writer error" while the Chromium viewer keeps decoding', async ({ page }) => {
  test.setTimeout(60_000);
  await startBob(['opus']);
  const { callId, toStream } = await callBob('deadrtmp');
  await openPlayer(page, toStream);

  const deadPort = await pickPort(13990, 'tcp');
  const deadUrl = `rtmp://127.0.0.1:${deadPort}/live`;
  const start = await rest(server.httpUrl, 'push/startup', { streamName: toStream, rtmpUrl: deadUrl });
  expect(start.status, JSON.stringify(start.json)).toBe(200);
  const id = obj(start)['mediaSessionId'];
  const failed = await until(
    'the push to fail',
    async () => arr(await rest(server.httpUrl, 'push/find_all')).find((p) => p['mediaSessionId'] === id),
    (p) => p?.['status'] === 'FAILED' || p?.['status'] === 'STOPPED',
    20_000,
  );
  expect(failed).toMatchObject({ status: 'FAILED', info: 'Failed by RTMP writer error', rtmpUrl: `${deadUrl}/rtmp_${toStream}` });
  expect(String(failed?.['lastError'])).toMatch(/Connection refused/);
  expect(server.logs()).toMatch(new RegExp(`push \\S+: ${toStream} -> .*failed: .*Connection refused`));

  // the viewer goes on: frames keep being decoded, audio keeps coming
  const before = await pcStats(page);
  await sleep(2_000);
  const after = await pcStats(page);
  const msg = `${describeStats(before)} -> ${describeStats(after)}`;
  expect((after?.video?.framesDecoded ?? 0) - (before?.video?.framesDecoded ?? 0), `frames decoded after the failure: ${msg}`).toBeGreaterThan(20);
  expect((after?.audio?.bytesReceived ?? 0) - (before?.audio?.bytesReceived ?? 0), `audio after the failure: ${msg}`).toBeGreaterThan(1_000);
  expect(after?.video?.frameWidth).toBe(640);
  await expect(page.locator('#status')).toHaveText('PLAYING');
  expect((await waitCall(callId, 'ESTABLISHED'))['status']).toBe('ESTABLISHED');
  const stream = arr(await rest(server.httpUrl, 'stream/find', { name: toStream }))[0];
  expect(stream).toMatchObject({ name: toStream, status: 'PUBLISHING' });
});

// ---- 4. a recorded call -----------------------------------------------------------------------------

test('a 10 s baresip call recorded by sip_record_stream: ffprobe h264 640x360 + aac, 10 s ± 1 s; downloaded, it plays to its end in Chromium', async ({ page }) => {
  test.setTimeout(75_000);
  await startBob(['opus']);
  const { callId, toStream } = await callBob('rec');
  const rec = await until(
    'the automatic recording of the call',
    async () => arr(await rest(server.httpUrl, 'recorder/find_all')).find((r) => r['streamName'] === toStream),
    (r) => r?.['status'] === 'RECORDING',
  );
  expect(rec).toMatchObject({ auto: true, streamName: toStream });
  const partName = String(rec?.['recordName']);
  expect(partName).toMatch(/\.part\.mp4$/);
  // the Stream object names the file being written
  const live = arr(await rest(server.httpUrl, 'stream/find', { name: toStream }))[0];
  expect(live, 'the Stream object while recorded').toMatchObject({ record: true, recordName: partName });

  // The recording began with the call's first keyframe, often before the call was seen ESTABLISHED over REST:
  // 10 s of recording are counted from its startTime (same clock: the server runs on this machine).
  const startTime = Number(rec?.['startTime']);
  expect(Date.now() - startTime, 'recording for less than 10 s so far').toBeLessThan(9_000);
  await sleep(startTime + 10_000 - Date.now());
  expect((await rest(server.httpUrl, 'call/terminate', { callId })).status).toBe(200);
  const done = await until(
    'the recording to be final',
    async () => arr(await rest(server.httpUrl, 'recorder/find_all')).find((r) => r['id'] === rec?.['id']),
    (r) => r?.['status'] === 'DONE' || r?.['status'] === 'FAILED',
  );
  expect(done).toMatchObject({ status: 'DONE', info: 'Stopped by publisher stop' });
  const name = String(done?.['recordName']);
  expect(name, 'the final name of the .part.mp4').toBe(partName.replace(/\.part\.mp4$/, '.mp4'));
  expect(name).toMatch(new RegExp(`^${toStream}-\\d+\\.mp4$`));

  const file = path.join(server.recordDir, name);
  const info = await ffprobe(file);
  console.log(`[recorded call] ${name}: durationMs ${String(done?.['durationMs'])}, file ${info.format?.duration} s, ${JSON.stringify(info.streams.map((s) => [s.codec_name, s.width ?? s.sample_rate, s.height ?? s.channels]))}`);
  expectH264Aac(info, 10, 1);
  // Every frame decodes: a frame cut short (e.g. the last one, when the recording stops in the middle of a frame's
  // RTP packets) is concealed by ffmpeg but makes Chromium's <video> fail with MEDIA_ERR_DECODE. Soft, so that
  // Chromium's verdict below is reported too.
  const errors = await decodeErrors(file);
  expect.soft(errors, `ffmpeg decode errors in ${name}; last video packet sizes: ${(await videoPacketSizes(file)).slice(-4).join(', ')} bytes`).toEqual([]);

  const url = `${server.httpUrl}/client/records/${name}`;
  const dl = await rawGet(url, { authorization: `Bearer ${TOKEN}` });
  expect(dl.status).toBe(200);
  expect(dl.headers['content-type']).toBe('video/mp4');
  expect(dl.body.length).toBe(statSync(file).size);

  const played = await playInChromium(page, url);
  console.log(`[recorded call] Chromium: ${JSON.stringify(played)}`);
  expect(played.width).toBe(640);
  expect(played.height).toBe(360);
  expect(Math.abs(played.duration - 10), `duration ${played.duration}`).toBeLessThanOrEqual(1);
  expect(played.ended, JSON.stringify(played)).toBe(true);
  expect(played.currentTime).toBeGreaterThan(played.duration - 0.2);
  expect(played.decoded, 'frames decoded (25 fps)').toBeGreaterThan(150);
  expect(played.painted, 'frames presented').toBeGreaterThan(20);
});

// ---- 5. the sip-as-rtmp page ------------------------------------------------------------------------

test('sip-as-rtmp page: a call to the demo callee, RTMP Start -> ffprobe h264 + aac, mute / unmute (/push/mute, /push/unmute), Stop', async ({ page }) => {
  test.setTimeout(75_000);
  const demoDomain = server.demoCallee.replace(/^sip:demo@/, '');
  expect(demoDomain).toMatch(/^127\.0\.0\.1:\d+$/);
  await page.goto(`${server.httpUrl}/sip-as-rtmp/`, { waitUntil: 'domcontentloaded' });
  // the page's defaults: the demo callee, no account; this server's demo callee listens on another port
  await expect(page.locator('#sipDomain')).toHaveValue('127.0.0.1:5090');
  await expect(page.locator('#callee')).toHaveValue('demo');
  await page.fill('#restToken', TOKEN);
  await page.fill('#sipDomain', demoDomain);
  await page.click('#callBtn');
  try {
    await expect(page.locator('#callStatus')).toHaveText('ESTABLISHED', { timeout: PAGE_STATUS_MS });
  } catch (err) {
    const info = await page.locator('#callInfo').textContent();
    const lines = server.logs().split('\n').filter((l) => /\[sipcast:(call|sip|demo)/.test(l)).slice(-30);
    throw new Error(`${(err as Error).message}\n#callInfo: ${info}\nserver log (call lines):\n${lines.join('\n')}`);
  }
  const { callId, streamName } = await page.evaluate(
    () => (window as unknown as { sipAsRtmp: { state(): { callId: string; streamName: string } } }).sipAsRtmp.state(),
  );
  calls.push(callId);

  const rtmpStream = `page-${Date.now().toString(36)}`;
  const target = rtmp.url(rtmpStream);
  await page.fill('#rtmpUrl', rtmp.baseUrl);
  await page.fill('#rtmpStream', rtmpStream);
  const [startResp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/rest-api/push/startup')), page.click('#startRtmp')]);
  const started = (await startResp.json()) as Obj;
  expect(startResp.status(), JSON.stringify(started)).toBe(200);
  expect(started).toMatchObject({ streamName, rtmpUrl: target, muted: false });
  await expect(page.locator('#startRtmp')).toHaveText('Stop');
  await expect(page.locator('#player')).toHaveText(target);

  await rtmp.waitForStream(rtmpStream, 20_000, true);
  expectH264Aac(await probeRtmp(target));

  // mute: the server answers /push/mute and the RTMP audio goes silent; unmute brings it back
  const [muteResp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/rest-api/push/mute')), page.click('#mute')]);
  expect(muteResp.status()).toBe(200);
  expect((await muteResp.json()) as Obj).toMatchObject({ mediaSessionId: started['mediaSessionId'], muted: true });
  await expect(page.locator('#restStatus')).toHaveText('RTMP audio muted');
  await expect(page.locator('#mute')).toBeChecked();
  expect(await pushOf(streamName)).toMatchObject({ muted: true, status: 'PUBLISHING' });
  await sleep(1_000);
  expect(await rtmpMaxVolume(target, 2), 'muted peak level (dB)').toBeLessThan(-70);

  const [unmuteResp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/rest-api/push/unmute')), page.click('#mute')]);
  expect(unmuteResp.status()).toBe(200);
  expect((await unmuteResp.json()) as Obj).toMatchObject({ muted: false });
  await expect(page.locator('#restStatus')).toHaveText('RTMP audio unmuted');
  expect(await pushOf(streamName)).toMatchObject({ muted: false });

  // Stop: /push/terminate, the push is STOPPED and nginx loses its publisher
  const [stopResp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/rest-api/push/terminate')), page.click('#startRtmp')]);
  expect(stopResp.status()).toBe(200);
  await expect(page.locator('#startRtmp')).toHaveText('Start');
  await expect(page.locator('#restStatus')).toHaveText('RTMP push stopped');
  expect(await pushOf(streamName)).toMatchObject({ status: 'STOPPED', info: 'Stopped by rest /terminate' });
  await waitRtmpGone(rtmpStream);

  // the call is not affected; hang up from the page
  expect((await waitCall(callId, 'ESTABLISHED'))['status']).toBe('ESTABLISHED');
  await page.click('#callBtn');
  await expect(page.locator('#callStatus')).toHaveText('FINISHED', { timeout: PAGE_STATUS_MS });
});
