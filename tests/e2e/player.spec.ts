/**
 * The sipcast Player page (examples/player, served by the server at /player/) against a real sipcast server
 * publishing its built-in `demo` stream (640x360 H.264 + opus, keyframe every 10 s).
 *
 * Ports of this file: 18080/18081 (shared server), 18090/18091 (the server that gets SIGTERM).
 */
import { expect, test, type Page } from '@playwright/test';
import { LossProxy } from './support/lossProxy';
import {
  describeStats,
  instrumentPage,
  pcStats,
  statusHistory,
  statusLog,
  videoSize,
  waitFor,
  waitForDecodedFrames,
  type PcSnapshot,
} from './support/media';
import { attachServerLogs, startServer, type SipcastServer } from './support/server';

interface PlayerGlobal {
  session: { status(): string } | null;
  stream: { status(): string; getInfo(): string; id(): string } | null;
}
declare global {
  interface Window {
    player?: PlayerGlobal;
  }
}

/** First decoded frame can take up to one GOP (10 s) if the server cannot get a keyframe sooner. */
const FIRST_FRAME_MS = 20_000;

let server: SipcastServer;
/** The extra server of the SIGTERM test, so that afterEach can attach its output too. */
let ownServer: SipcastServer | undefined;

test.beforeAll(async () => {
  server = await startServer({ name: 'player', wsPort: 18080, httpPort: 18081, requireSdk: true });
});

test.afterAll(async () => {
  await server?.stop();
});

test.afterEach(async ({}, testInfo) => {
  await attachServerLogs(testInfo, server);
  await attachServerLogs(testInfo, ownServer);
  ownServer = undefined;
});

async function openPlayer(page: Page, query: string, srv: SipcastServer = server): Promise<void> {
  await instrumentPage(page);
  await page.goto(`${srv.httpUrl}/player/?${query}`, { waitUntil: 'domcontentloaded' });
}

async function pageState(page: Page): Promise<{ session: string | null; stream: string | null; info: string | null }> {
  return page.evaluate(() => ({
    session: window.player?.session?.status() ?? null,
    stream: window.player?.stream?.status() ?? null,
    info: window.player?.stream?.getInfo() ?? null,
  }));
}

async function expectVideo640x360(page: Page): Promise<void> {
  await waitFor(
    '<video> 640x360',
    () => videoSize(page),
    (v) => v.videoWidth === 640 && v.videoHeight === 360,
    { timeoutMs: 10_000, describe: (v) => JSON.stringify(v) },
  );
}

function video(s: PcSnapshot | null) {
  if (!s?.video) throw new Error(`no video inbound-rtp: ${describeStats(s)}`);
  return s.video;
}

function audio(s: PcSnapshot | null) {
  if (!s?.audio) throw new Error(`no audio inbound-rtp: ${describeStats(s)}`);
  return s.audio;
}

test('plays demo: 640x360 video and audio, PENDING -> PLAYING, Stop -> STOPPED', async ({ page }) => {
  await openPlayer(page, 'streamName=demo');
  // Defaults: URL from /sipcast-config.js, name from ?streamName.
  await expect(page.locator('#url')).toHaveValue(new RegExp(`^ws://[^/]+:${server.wsPort}$`));
  await expect(page.locator('#streamName')).toHaveValue('demo');
  await expect(page.locator('#playBtn')).toHaveText('Start');
  await expect(page.locator('#status')).toHaveText('');

  await page.click('#playBtn');
  await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  await expect(page.locator('#playBtn')).toHaveText('Stop');

  const first = await waitForDecodedFrames(page, 1, FIRST_FRAME_MS);
  await expectVideo640x360(page);
  const t0 = (await videoSize(page)).currentTime;
  await page.waitForTimeout(2_000);
  const later = await pcStats(page);
  const t1 = (await videoSize(page)).currentTime;

  expect(video(later).frameWidth, describeStats(later)).toBe(640);
  expect(video(later).frameHeight, describeStats(later)).toBe(360);
  // 2 s of a live stream: well over 10 frames even at a low frame rate.
  expect(video(later).framesDecoded - video(first).framesDecoded, describeStats(later)).toBeGreaterThan(10);
  expect(audio(later).bytesReceived - audio(first).bytesReceived, describeStats(later)).toBeGreaterThan(1_000);
  expect(t1 - t0, 'video currentTime advances').toBeGreaterThan(1);
  // The server takes the DTLS server role so that the cheaper AES-GCM SRTP profile is chosen.
  expect(later?.dtlsRole).toBe('client');
  expect(later?.srtpCipher).toMatch(/GCM/);
  expect(await statusHistory(page)).toEqual(['PENDING', 'PLAYING']);
  expect((await pageState(page)).stream).toBe('PLAYING');

  // Volume slider drives the <video> volume; Full Screen puts the player's video in full screen.
  await page.locator('#volumeControl').fill('20');
  await expect
    .poll(() => page.evaluate(() => document.querySelector<HTMLVideoElement>('#remoteVideo video')?.volume))
    .toBeCloseTo(0.2, 2);
  await page.click('#fullScreenBtn');
  await expect
    .poll(() =>
      page.evaluate(() => {
        const fs = document.fullscreenElement;
        const display = document.getElementById('remoteVideo');
        return !!fs && !!display && (fs === display || display.contains(fs));
      }),
    )
    .toBe(true);
  await page.evaluate(() => document.exitFullscreen());

  await page.click('#playBtn');
  await expect(page.locator('#status')).toHaveText('STOPPED', { timeout: 10_000 });
  await expect(page.locator('#info')).toHaveText('Stopped by user');
  await expect(page.locator('#playBtn')).toHaveText('Start');
  await expect(page.locator('#playBtn')).toBeEnabled();
  expect(await statusHistory(page)).toEqual(['PENDING', 'PLAYING', 'STOPPED']);
  expect(await pageState(page)).toMatchObject({ stream: 'STOPPED', info: 'Stopped by user', session: 'ESTABLISHED' });
  await expect.poll(async () => (await pcStats(page, -1))?.connectionState).toBe('closed');
});

test('unknown stream name: FAILED with "Stream not found"', async ({ page }) => {
  const name = `no-such-stream-${Date.now()}`;
  await openPlayer(page, `streamName=${name}&autoplay`);
  await expect(page.locator('#status')).toHaveText('FAILED', { timeout: 15_000 });
  await expect(page.locator('#info')).toHaveText('Stream not found');
  await expect(page.locator('#playBtn')).toHaveText('Start');
  expect(await statusHistory(page)).toEqual(['PENDING', 'FAILED']);
  expect(await pageState(page)).toMatchObject({ stream: 'FAILED', info: 'Stream not found' });
  const s = await pcStats(page, -1);
  expect(s?.video?.framesDecoded ?? 0).toBe(0);
  await expect.poll(async () => (await pcStats(page, -1))?.connectionState).toBe('closed');
});

test('three tabs at once all decode demo', async ({ context }) => {
  await instrumentPage(context);
  const pages = await Promise.all([0, 1, 2].map(() => context.newPage()));
  await Promise.all(
    pages.map((p) => p.goto(`${server.httpUrl}/player/?streamName=demo&autoplay`, { waitUntil: 'domcontentloaded' })),
  );
  for (const p of pages) await expect(p.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  const firsts = await Promise.all(pages.map((p) => waitForDecodedFrames(p, 1, FIRST_FRAME_MS)));
  await Promise.all(pages.map((p) => expectVideo640x360(p)));
  await pages[0]!.waitForTimeout(2_000);
  const laters = await Promise.all(pages.map((p) => pcStats(p)));
  pages.forEach((_, i) => {
    const msg = `tab ${i}: ${describeStats(laters[i]!)}`;
    expect(video(laters[i]!).framesDecoded - video(firsts[i]!).framesDecoded, msg).toBeGreaterThan(10);
    expect(audio(laters[i]!).bytesReceived - audio(firsts[i]!).bytesReceived, msg).toBeGreaterThan(1_000);
  });
});

test('3 % video loss between server and browser is repaired by NACK', async ({ page }, testInfo) => {
  const proxy = new LossProxy({ dropRate: 0 });
  try {
    await proxy.routePage(page, server.wsPort);
    await openPlayer(page, 'streamName=demo&autoplay');
    await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
    await waitForDecodedFrames(page, 1, FIRST_FRAME_MS);
    await expectVideo640x360(page);

    // Media really flows through the proxy.
    const viaProxy = await pcStats(page);
    expect(proxy.stats.mappings.length, proxy.describe()).toBeGreaterThan(0);
    expect(proxy.proxyPorts(), describeStats(viaProxy)).toContain(viaProxy?.selectedRemote?.port);
    expect(proxy.stats.toBrowser.videoRtp, proxy.describe()).toBeGreaterThan(0);

    // Loss-free reference rate.
    await page.waitForTimeout(1_000);
    const b0 = await pcStats(page);
    await page.waitForTimeout(2_000);
    const b1 = await pcStats(page);
    const baselineFps = (video(b1).framesDecoded - video(b0).framesDecoded) / 2;

    proxy.setDropRate(0.03);
    const samples: PcSnapshot[] = [b1!];
    for (let i = 0; i < 10; i++) {
      await page.waitForTimeout(1_000);
      samples.push((await pcStats(page))!);
    }
    proxy.setDropRate(0);
    // Let the last NACKs be answered before reading the final loss figure.
    await page.waitForTimeout(2_000);
    const end = await pcStats(page);

    const v = video(end);
    const dropped = proxy.stats.dropped;
    const summary = {
      proxy: proxy.describe(),
      baselineFps,
      decodedPerSecondUnderLoss: samples.slice(1).map((s, i) => video(s).framesDecoded - video(samples[i]!).framesDecoded),
      final: describeStats(end),
    };
    await testInfo.attach('loss-summary.json', { body: JSON.stringify(summary, null, 2), contentType: 'application/json' });
    console.log(`[loss] ${JSON.stringify(summary)}`);
    const msg = `${summary.final} || ${summary.proxy}`;

    expect(dropped, msg).toBeGreaterThan(0);
    expect(v.nackCount, msg).toBeGreaterThan(0);
    expect(v.packetsLost, msg).toBeLessThanOrEqual(Math.max(5, Math.ceil(0.02 * dropped)));
    expect(v.freezeCount === 0 || v.totalFreezesDuration < 0.5, `freezes: ${msg}`).toBe(true);
    // Decoding never stalls for a whole second, and keeps most of the loss-free rate.
    summary.decodedPerSecondUnderLoss.forEach((n, i) => expect(n, `second ${i + 1} under loss: ${msg}`).toBeGreaterThan(0));
    const decodedUnderLoss = video(samples[samples.length - 1]!).framesDecoded - video(b1).framesDecoded;
    expect(decodedUnderLoss, msg).toBeGreaterThanOrEqual(Math.floor(0.7 * baselineFps * 10));
    await expect(page.locator('#status')).toHaveText('PLAYING');
  } finally {
    proxy.close();
  }
});

test('server stopped (SIGTERM): session DISCONNECTED or FAILED, stream FAILED', async ({ page }) => {
  const own = await startServer({ name: 'player-sigterm', wsPort: 18090, httpPort: 18091, requireSdk: true });
  ownServer = own;
  // Passive log of what the server sends (for the failure message), without routing the socket.
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      const text = String(payload);
      if (!text.includes('"ping"')) frames.push(text.length > 300 ? `${text.slice(0, 300)}…` : text);
    });
    ws.on('close', () => frames.push('[socket closed]'));
  });
  try {
    await openPlayer(page, 'streamName=demo&autoplay', own);
    await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
    await waitForDecodedFrames(page, 1, FIRST_FRAME_MS);
    frames.length = 0;

    own.kill('SIGTERM');
    const exit = await Promise.race([
      own.exited,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
    ]);
    expect(exit, 'server exits within 10 s of SIGTERM').not.toBeNull();

    await expect(page.locator('#sessionStatus')).toHaveText(/^(DISCONNECTED|FAILED)$/, { timeout: 15_000 });
    // The SDK fails the stream on the session loss; give the page a moment to show it.
    await waitFor('stream status FAILED', () => pageState(page), (st) => st.stream === 'FAILED', {
      timeoutMs: 5_000,
      describe: (st) => JSON.stringify(st),
    }).catch(() => undefined);
    const state = await pageState(page);
    const seen = `page state ${JSON.stringify(state)}; #status/#info log ${JSON.stringify(
      await statusLog(page),
    )}; frames from the server after SIGTERM: ${frames.join(' ')}`;
    expect(['DISCONNECTED', 'FAILED'], seen).toContain(state.session);
    expect(state.stream, seen).toBe('FAILED');
    await expect(page.locator('#status'), seen).toHaveText('FAILED');
    await expect(page.locator('#playBtn')).toHaveText('Start');
    expect(await statusHistory(page), seen).toEqual(['PENDING', 'PLAYING', 'FAILED']);
    await expect.poll(async () => (await pcStats(page, -1))?.connectionState).toBe('closed');
  } finally {
    await own.stop();
  }
});
