/**
 * Time to first frame (TTFF) in Chromium on the demo stream, and the jitter-buffer delay left
 * behind by the fast start (GOP-cache burst).
 *
 *   npx tsx packages/server/bench/ttff.ts [--runs 15] [--playback 5] [--gop 10] [--out file.json]
 *
 * Needs the build (packages/server/dist, packages/sdk/dist: `bash scripts/build.sh`). Starts
 * `node packages/server/dist/main.js` with SIPCAST_DEMO=true on its own ports (from 18580), and
 * Debian's /usr/bin/chromium through Playwright. Each run opens a fresh context and page on
 * /player/?streamName=demo (examples/player, which drives the SDK), waits a random 0..`--gop` s
 * so the join lands anywhere in the clip's 10 s keyframe interval, clicks Start, and measures
 * from just before the SDK's stream.play() to the first requestVideoFrameCallback of the
 * <video>. After `--playback` s of playback it reads the video inbound-rtp stats
 * (jitterBufferDelay / jitterBufferEmittedCount, cumulative and over the last second).
 * The server and the browser are stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from '@playwright/test';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SERVER_MAIN = path.join(REPO, 'packages', 'server', 'dist', 'main.js');
const SDK_UMD = path.join(REPO, 'packages', 'sdk', 'dist', 'flashphoner.umd.min.js');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    playback: { type: 'string', default: '5' },
    gop: { type: 'string', default: '10' },
    fps: { type: 'string', default: '25' },
    'base-port': { type: 'string', default: '18580' },
    'executable-path': { type: 'string', default: '/usr/bin/chromium' },
    out: { type: 'string' },
  },
});
const RUNS = Number(argv.runs);
const PLAYBACK_S = Number(argv.playback);
const GOP_S = Number(argv.gop);
/** Frame rate of the demo clip (scripts/make-demo-clip.sh), for the GOP-position estimate. */
const FPS = Number(argv.fps);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => void process.stderr.write(`[ttff] ${msg}\n`);

/**
 * Runs in the page before its scripts: marks stream.play() (by wrapping the SDK's global
 * `Flashphoner` as the UMD bundle assigns it), RTCPeerConnection creation and state, and the
 * first requestVideoFrameCallback of any <video> that appears. Plain JavaScript in a string, so
 * that no transpiler helper leaks into the page.
 */
const PAGE_HOOKS = `(() => {
  const bench = { pcs: [] };
  window.__bench = bench;
  const NativePc = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePc {
    constructor(config) {
      super(config);
      if (bench.tPc === undefined) bench.tPc = performance.now();
      bench.pcs.push(this);
      this.addEventListener('iceconnectionstatechange', () => {
        if ((this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') && bench.tIceConnected === undefined) {
          bench.tIceConnected = performance.now();
        }
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected' && bench.tConnected === undefined) bench.tConnected = performance.now();
      });
      this.addEventListener('track', () => {
        if (bench.tTrack === undefined) bench.tTrack = performance.now();
      });
    }
  };
  let api;
  Object.defineProperty(window, 'Flashphoner', {
    configurable: true,
    get: () => api,
    set: (v) => {
      api = Object.assign({}, v, {
        createSession: function () {
          const session = v.createSession.apply(v, arguments);
          const createStream = session.createStream;
          session.createStream = function () {
            const stream = createStream.apply(this, arguments);
            const play = stream.play;
            stream.play = function () {
              bench.tPlay = performance.now();
              return play.apply(this, arguments);
            };
            return stream;
          };
          return session;
        },
      });
    },
  });
  const watch = (video) => {
    if (bench.tVideoEl === undefined) bench.tVideoEl = performance.now();
    video.requestVideoFrameCallback((now, meta) => {
      if (bench.tFirstFrame !== undefined) return;
      bench.tFirstFrame = performance.now();
      bench.firstFrameMeta = {
        callbackNow: now,
        presentationTime: meta.presentationTime,
        expectedDisplayTime: meta.expectedDisplayTime,
        receiveTime: meta.receiveTime === undefined ? -1 : meta.receiveTime,
        width: meta.width,
        height: meta.height,
        presentedFrames: meta.presentedFrames,
      };
    });
  };
  new MutationObserver((records) => {
    for (const r of records) {
      r.addedNodes.forEach((n) => {
        if (n instanceof HTMLVideoElement) watch(n);
        else if (n instanceof Element) n.querySelectorAll('video').forEach(watch);
      });
    }
  }).observe(document, { childList: true, subtree: true });
})();`;

/** Video inbound-rtp and transport stats of every hooked peer connection. */
async function readStats(page: Page): Promise<Record<string, number | string>> {
  return page.evaluate(async () => {
    const bench = (window as unknown as { __bench: { pcs: RTCPeerConnection[] } }).__bench;
    const out: Record<string, number | string> = { tNow: performance.now() };
    for (const pc of bench.pcs) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s['type'] === 'inbound-rtp' && s['kind'] === 'video') {
          for (const k of [
            'jitterBufferDelay',
            'jitterBufferTargetDelay',
            'jitterBufferMinimumDelay',
            'jitterBufferEmittedCount',
            'framesDecoded',
            'framesReceived',
            'framesDropped',
            'keyFramesDecoded',
            'freezeCount',
            'totalFreezesDuration',
            'packetsLost',
            'packetsReceived',
            'nackCount',
            'pliCount',
            'firCount',
            'frameWidth',
            'frameHeight',
            'totalProcessingDelay',
            'totalDecodeTime',
          ]) {
            if (typeof s[k] === 'number') out[k] = s[k] as number;
          }
        } else if (s['type'] === 'transport' && typeof s['srtpCipher'] === 'string') {
          out['srtpCipher'] = s['srtpCipher'] as string;
          if (typeof s['dtlsRole'] === 'string') out['dtlsRole'] = s['dtlsRole'] as string;
        }
      });
    }
    return out;
  });
}

interface RunResult {
  run: number;
  joinDelayS: number;
  ok: boolean;
  error?: string;
  clickToPlayMs?: number;
  playToPcMs?: number;
  playToConnectedMs?: number;
  connectedToFirstFrameMs?: number;
  playToFirstFrameMs?: number;
  clickToFirstFrameMs?: number;
  firstFrame?: Record<string, number>;
  framesDecoded1s?: number;
  /** Estimated position in the keyframe interval at join: frames in the fast-start burst / fps. */
  gopPositionS?: number;
  keyFramesDecoded?: number;
  jbCumulativeMs?: number;
  jbLastSecondMs?: number;
  jbTargetMs?: number;
  freezeCount?: number;
  framesDropped?: number;
  srtpCipher?: string;
  size?: string;
}

async function oneRun(browser: Browser, url: string, run: number): Promise<RunResult> {
  const joinDelayS = Math.random() * GOP_S;
  const context = await browser.newContext();
  const page = await context.newPage();
  const res: RunResult = { run, joinDelayS, ok: false };
  try {
    await page.addInitScript({ content: PAGE_HOOKS });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => {
      const w = window as unknown as { player?: unknown };
      const btn = document.getElementById('playBtn') as HTMLButtonElement | null;
      return !!w.player && !!btn && !btn.disabled && (document.getElementById('url') as HTMLInputElement).value !== '';
    });
    await sleep(joinDelayS * 1000);
    const tClick = await page.evaluate(() => {
      const t = performance.now();
      (document.getElementById('playBtn') as HTMLButtonElement).click();
      return t;
    });
    await page.waitForFunction(() => (window as unknown as { __bench: { tFirstFrame?: number } }).__bench.tFirstFrame !== undefined, undefined, {
      timeout: 20_000,
      polling: 20,
    });
    const b = await page.evaluate(() => {
      const x = (window as unknown as { __bench: Record<string, unknown> }).__bench;
      return {
        tPlay: x['tPlay'] as number | undefined,
        tPc: x['tPc'] as number | undefined,
        tConnected: (x['tConnected'] ?? x['tIceConnected']) as number | undefined,
        tFirstFrame: x['tFirstFrame'] as number,
        meta: x['firstFrameMeta'] as Record<string, number>,
      };
    });
    const tPlay = b.tPlay ?? b.tPc ?? tClick;
    res.clickToPlayMs = tPlay - tClick;
    if (b.tPc !== undefined) res.playToPcMs = b.tPc - tPlay;
    if (b.tConnected !== undefined) {
      res.playToConnectedMs = b.tConnected - tPlay;
      res.connectedToFirstFrameMs = b.tFirstFrame - b.tConnected;
    }
    res.playToFirstFrameMs = b.tFirstFrame - tPlay;
    res.clickToFirstFrameMs = b.tFirstFrame - tClick;
    res.firstFrame = { ...b.meta, presentationMinusPlayMs: b.meta['presentationTime']! - tPlay };
    if (b.meta['receiveTime']! > 0) res.firstFrame['receiveMinusPlayMs'] = b.meta['receiveTime']! - tPlay;
    await sleep(1000);
    const s1 = await readStats(page);
    res.framesDecoded1s = s1['framesDecoded'] as number;
    // Frames decoded so far = the burst (frames since the last keyframe) + live frames since then.
    res.gopPositionS = Math.max(0, (res.framesDecoded1s - (FPS * ((s1['tNow'] as number) - b.tFirstFrame)) / 1000) / FPS);
    await sleep(Math.max(0, (PLAYBACK_S - 2) * 1000));
    const sA = await readStats(page);
    await sleep(1000);
    const sB = await readStats(page);
    const n = (s: Record<string, number | string>, k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : NaN);
    res.jbCumulativeMs = (1000 * n(sB, 'jitterBufferDelay')) / n(sB, 'jitterBufferEmittedCount');
    res.jbLastSecondMs = (1000 * (n(sB, 'jitterBufferDelay') - n(sA, 'jitterBufferDelay'))) / (n(sB, 'jitterBufferEmittedCount') - n(sA, 'jitterBufferEmittedCount'));
    res.jbTargetMs = (1000 * (n(sB, 'jitterBufferTargetDelay') - n(sA, 'jitterBufferTargetDelay'))) / (n(sB, 'jitterBufferEmittedCount') - n(sA, 'jitterBufferEmittedCount'));
    res.keyFramesDecoded = n(sB, 'keyFramesDecoded');
    res.freezeCount = n(sB, 'freezeCount');
    res.framesDropped = n(sB, 'framesDropped');
    res.srtpCipher = String(sB['srtpCipher'] ?? '');
    res.size = `${sB['frameWidth'] ?? '?'}x${sB['frameHeight'] ?? '?'}`;
    res.ok = true;
  } catch (err) {
    res.error = (err as Error).message.split('\n')[0];
  } finally {
    await context.close().catch(() => undefined);
  }
  return res;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function startServer(): Promise<{ proc: ChildProcess; httpUrl: string; logs: () => string }> {
  let ws = Number(argv['base-port']);
  while (!((await portFree(ws)) && (await portFree(ws + 1)))) ws += 2;
  const lines: string[] = [];
  const proc = spawn(process.execPath, [SERVER_MAIN], {
    cwd: REPO,
    env: {
      ...process.env,
      SIPCAST_BIND: '127.0.0.1',
      SIPCAST_WS_PORT: String(ws),
      SIPCAST_HTTP_PORT: String(ws + 1),
      SIPCAST_DEMO: 'true',
      SIPCAST_SIP_PORT: process.env['SIPCAST_SIP_PORT'] ?? '0',
      SIPCAST_DEMO_CALLEE: process.env['SIPCAST_DEMO_CALLEE'] ?? 'false',
      SIPCAST_LOG_LEVEL: process.env['SIPCAST_LOG_LEVEL'] ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const keep = (l: string): void => {
    lines.push(l);
    if (lines.length > 200) lines.shift();
  };
  createInterface({ input: proc.stderr! }).on('line', keep);
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server not ready in 20 s:\n${lines.join('\n')}`)), 20_000);
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      keep(l);
      if (l.includes('sipcast ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited (${code}):\n${lines.join('\n')}`));
    });
  });
  await ready;
  return { proc, httpUrl: `http://127.0.0.1:${ws + 1}`, logs: () => lines.join('\n') };
}

const children = new Set<ChildProcess>();
function killChildren(): void {
  for (const p of children) {
    try {
      if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

/** Percentile with linear interpolation between closest ranks. */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = (s.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}

const f = (x: number | undefined, d = 0): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

async function main(): Promise<void> {
  for (const file of [SERVER_MAIN, SDK_UMD]) {
    if (!existsSync(file)) throw new Error(`${path.relative(REPO, file)} is missing: build first (bash scripts/build.sh)`);
  }
  const server = await startServer();
  let browser: Browser | undefined;
  const results: RunResult[] = [];
  try {
    browser = await chromium.launch({ executablePath: argv['executable-path']!, args: CHROMIUM_ARGS, headless: true });
    log(`chromium ${browser.version()}; server ${server.httpUrl}; ${RUNS} runs`);
    const url = `${server.httpUrl}/player/?streamName=demo`;
    for (let i = 1; i <= RUNS; i++) {
      const r = await oneRun(browser, url, i);
      results.push(r);
      log(
        r.ok
          ? `run ${i}: join +${r.joinDelayS.toFixed(1)} s, play→first frame ${f(r.playToFirstFrameMs)} ms (play→connected ${f(r.playToConnectedMs)}, connected→frame ${f(r.connectedToFirstFrameMs)}), jb ${f(r.jbCumulativeMs, 1)} / last s ${f(r.jbLastSecondMs, 1)} ms`
          : `run ${i}: FAILED ${r.error}`,
      );
    }
  } finally {
    await browser?.close().catch(() => undefined);
    server.proc.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.proc.once('exit', r)), sleep(5000)]);
    killChildren();
  }

  const ok = results.filter((r) => r.ok);
  const lines: string[] = [];
  lines.push('');
  lines.push(`TTFF on the demo stream (examples/player + SDK, Chromium ${browser?.version() ?? ''}), ${ok.length}/${results.length} runs ok`);
  lines.push('');
  lines.push('| run | random wait before Start (s) | click→play() ms | play()→PC connected ms | connected→first frame ms | **play()→first frame ms** | frames decoded 1 s later | ≈ GOP position at join (s) | jitter buffer ms (cumulative at ~5 s) | jitter buffer ms (last 1 s) | jb target ms (last 1 s) | freezes | size | SRTP |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    if (!r.ok) {
      lines.push(`| ${r.run} | ${r.joinDelayS.toFixed(1)} | failed: ${r.error} ||||||||||||`);
      continue;
    }
    lines.push(
      `| ${r.run} | ${r.joinDelayS.toFixed(1)} | ${f(r.clickToPlayMs)} | ${f(r.playToConnectedMs)} | ${f(r.connectedToFirstFrameMs)} | ${f(r.playToFirstFrameMs)} | ${f(r.framesDecoded1s)} | ${f(r.gopPositionS, 1)} | ${f(r.jbCumulativeMs, 1)} | ${f(r.jbLastSecondMs, 1)} | ${f(r.jbTargetMs, 1)} | ${f(r.freezeCount)} | ${r.size} | ${r.srtpCipher} |`,
    );
  }
  const stat = (name: string, xs: number[], d = 0): string =>
    `| ${name} | ${f(pct(xs, 0.5), d)} | ${f(pct(xs, 0.9), d)} | ${f(Math.max(...xs), d)} | ${f(Math.min(...xs), d)} |`;
  const col = (k: keyof RunResult): number[] => ok.map((r) => r[k] as number).filter((x) => Number.isFinite(x));
  lines.push('');
  lines.push('| metric | p50 | p90 | max | min |');
  lines.push('|---|---|---|---|---|');
  lines.push(stat('**play() → first frame (rVFC), ms**', col('playToFirstFrameMs')));
  lines.push(stat('click → first frame, ms', col('clickToFirstFrameMs')));
  lines.push(stat('play() → PC connected, ms', col('playToConnectedMs')));
  lines.push(stat('connected → first frame, ms', col('connectedToFirstFrameMs')));
  lines.push(stat('jitter buffer delay, cumulative at ~5 s, ms', col('jbCumulativeMs'), 1));
  lines.push(stat('jitter buffer delay, last 1 s, ms', col('jbLastSecondMs'), 1));
  const p50 = pct(col('playToFirstFrameMs'), 0.5);
  lines.push('');
  lines.push(`Target p50 ≤ 300 ms: ${p50 <= 300 ? 'met' : 'NOT met'} (p50 ${f(p50)} ms).`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const outFile = argv.out ?? path.join(os.tmpdir(), 'sipcast-bench', `ttff-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ chromium: browser?.version(), argv, results }, null, 2));
  log(`raw results: ${outFile}`);
  if (ok.length === 0) process.exitCode = 1;
}

main().catch((err: Error) => {
  log(`failed: ${err.stack ?? err.message}`);
  killChildren();
  process.exit(1);
});
