/**
 * The ORIGINAL Flashphoner Web SDK player example (npm @flashphoner/websdk, its own flashphoner.js, jQuery,
 * jQuery UI and utils.js) pointed at a sipcast server: it must play `demo` and stop cleanly.
 *
 * The websdk package folder is served as-is by a tiny static server on 127.0.0.1; player.html lives at
 * /examples/demo/streaming/player/player.html and loads ../../../../flashphoner.js (= /flashphoner.js) and
 * ../../dependencies/... (= /examples/demo/dependencies/...).
 *
 * Ports of this file: 18180/18181 (sipcast server); the static server uses an ephemeral port.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  describeStats,
  instrumentPage,
  pcStats,
  statusHistory,
  videoSize,
  waitFor,
  waitForDecodedFrames,
} from './support/media';
import { REPO_ROOT, attachServerLogs, startServer, type SipcastServer } from './support/server';

const WEBSDK_DIR = path.join(REPO_ROOT, 'node_modules', '@flashphoner', 'websdk');
const PLAYER_PATH = '/examples/demo/streaming/player/player.html';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.mp4': 'video/mp4',
};

interface StaticServer {
  url: string;
  /** "<status> <path>" of every request, for diagnostics. */
  requests: string[];
  close(): Promise<void>;
}

function startStaticServer(root: string): Promise<StaticServer> {
  const requests: string[] = [];
  const srv = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, path.normalize(pathname));
    const inside = file === root || file.startsWith(root + path.sep);
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      requests.push(`404 ${pathname}`);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    requests.push(`200 ${pathname}`);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            srv.closeAllConnections();
            srv.close(() => done());
          }),
      });
    });
  });
}

let server: SipcastServer;
let web: StaticServer;

test.beforeAll(async () => {
  if (!existsSync(path.join(WEBSDK_DIR, PLAYER_PATH))) {
    throw new Error(`@flashphoner/websdk player example not found under ${WEBSDK_DIR}`);
  }
  server = await startServer({ name: 'interop', wsPort: 18180, httpPort: 18181 });
  web = await startStaticServer(WEBSDK_DIR);
});

test.afterAll(async () => {
  await web?.close();
  await server?.stop();
});

test.afterEach(async ({}, testInfo) => {
  await attachServerLogs(testInfo, server);
  if (web && testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach('static-requests.txt', { body: web.requests.join('\n'), contentType: 'text/plain' });
  }
});

/** Opens the original player with our server's URL in its WCS URL field; collects uncaught page errors. */
async function openOriginalPlayer(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await instrumentPage(page);
  await page.goto(`${web.url}${PLAYER_PATH}?streamName=demo`);
  // The page loads its SDK and dependencies from the package and is ready to play.
  expect(web.requests).toContain('200 /flashphoner.js');
  await expect(page.locator('#streamName')).toHaveValue('demo');
  await expect(page.locator('#playBtn')).toHaveText('Start');
  await expect(page.locator('#playBtn')).toBeEnabled();
  await page.fill('#url', server.wsUrl);
  return errors;
}

/** Start -> PLAYING, 640x360 frames decode and audio flows. */
async function playAndCheck(page: Page): Promise<void> {
  await page.click('#playBtn');
  await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  const first = await waitForDecodedFrames(page, 1, 20_000);
  await waitFor(
    '<video> 640x360',
    () => videoSize(page),
    (v) => v.videoWidth === 640 && v.videoHeight === 360,
    { timeoutMs: 10_000, describe: (v) => JSON.stringify(v) },
  );
  await page.waitForTimeout(2_000);
  const later = await pcStats(page);
  const msg = describeStats(later);
  expect(later?.video?.frameWidth, msg).toBe(640);
  expect(later?.video?.frameHeight, msg).toBe(360);
  expect((later?.video?.framesDecoded ?? 0) - (first.video?.framesDecoded ?? 0), msg).toBeGreaterThan(10);
  expect((later?.audio?.bytesReceived ?? 0) - (first.audio?.bytesReceived ?? 0), msg).toBeGreaterThan(1_000);
}

/** Stop -> STOPPED, the button is back to an enabled Start and the peer connection is closed. */
async function stopAndCheck(page: Page): Promise<void> {
  await expect(page.locator('#playBtn')).toHaveText('Stop');
  await page.click('#playBtn');
  await expect(page.locator('#status')).toHaveText('STOPPED', { timeout: 10_000 });
  await expect(page.locator('#playBtn')).toHaveText('Start');
  await expect(page.locator('#playBtn')).toBeEnabled();
  await expect(page.locator('#info')).toHaveText('');
  await expect.poll(async () => (await pcStats(page, -1))?.connectionState).toBe('closed');
}

test('original Flashphoner player plays demo from sipcast and stops cleanly', async ({ page }) => {
  const errors = await openOriginalPlayer(page);
  await playAndCheck(page);
  await stopAndCheck(page);
  // player.js shows the session's ESTABLISHED, then the stream's statuses; nothing else in between.
  expect(await statusHistory(page)).toEqual(['ESTABLISHED', 'PLAYING', 'STOPPED']);
  expect(errors, 'uncaught errors in the page').toEqual([]);
});

test('original Flashphoner player: a second Start on the same session plays again', async ({ page }) => {
  const errors = await openOriginalPlayer(page);
  await playAndCheck(page);
  await stopAndCheck(page);
  // player.js reuses the established session for the second Start.
  await playAndCheck(page);
  await stopAndCheck(page);
  expect(await statusHistory(page)).toEqual(['ESTABLISHED', 'PLAYING', 'STOPPED', 'PLAYING', 'STOPPED']);
  expect(errors, 'uncaught errors in the page').toEqual([]);
});
