/**
 * Helpers of the record-and-republish e2e specs (tests/e2e/egress.spec.ts, tests/e2e/sip-egress.spec.ts): the
 * built server started with a records directory of its own and a REST token, REST calls, polling, ffprobe checks of
 * RTMP streams and record files, and playing a downloaded record in Chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { expect, type Page } from '@playwright/test';
import { ffprobe, type FfprobeResult } from './peers';
import { makeRunDir, removeRunDir, runBounded, sleep } from './peers/process';
import { REPO_ROOT } from './server';

/** The REST token of every egress test server (REST calls and record downloads carry it). */
export const TOKEN = 'egress-e2e-token';
const ENTRY = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');

export interface EgressServer {
  readonly proc: ChildProcess;
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly egressUrl: string;
  readonly demoCallee: string;
  readonly recordDir: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logs(): string;
  stop(): Promise<unknown>;
}

/** Spawns the egress test server and waits for its "sipcast ready" line. */
export async function startEgressServer(name: string, env: Record<string, string> = {}): Promise<EgressServer> {
  const runDir = makeRunDir(`egress-${name}`);
  const recordDir = path.join(runDir, 'records');
  const lines: string[] = [];
  const proc = spawn(process.execPath, [ENTRY], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SIPCAST_BIND: '127.0.0.1',
      SIPCAST_WS_PORT: '0',
      SIPCAST_HTTP_PORT: '0',
      SIPCAST_SIP_PORT: '0',
      SIPCAST_DEMO: 'true',
      SIPCAST_DEMO_CALLEE: 'true',
      SIPCAST_DEMO_CALLEE_PORT: '0',
      SIPCAST_RTP_PORT_MIN: '33000',
      SIPCAST_RTP_PORT_MAX: '33199',
      SIPCAST_REST_TOKEN: TOKEN,
      SIPCAST_RECORD_DIR: recordDir,
      SIPCAST_LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      lines.push(`[exit] code=${code} signal=${signal}`);
      resolve({ code, signal });
    }),
  );
  const ready = new Promise<string>((resolve, reject) => {
    const collect = (label: string) => {
      let partial = '';
      return (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          if (lines.length < 20_000) lines.push(`[${label}] ${line}`);
          if (label === 'out' && line.includes('sipcast ready')) resolve(line);
        }
      };
    };
    proc.stdout?.on('data', collect('out'));
    proc.stderr?.on('data', collect('err'));
    void exited.then(() => reject(new Error(`egress server ${name} exited before ready:\n${lines.slice(-30).join('\n')}`)));
    setTimeout(() => reject(new Error(`egress server ${name} not ready in 30 s:\n${lines.slice(-30).join('\n')}`)), 30_000).unref();
  });
  const line = await ready;
  const field = (k: string): string => new RegExp(`${k}=(\\S+)`).exec(line)?.[1] ?? '';
  // The demo callee's URI is published to the pages in /sipcast-config.js.
  const pageConfig = await (await fetch(`${field('http')}/sipcast-config.js`)).text();
  const demoCallee = /"demoCallee":"([^"]+)"/.exec(pageConfig)?.[1] ?? '';
  return {
    proc,
    wsUrl: field('ws'),
    httpUrl: field('http'),
    egressUrl: field('http'),
    demoCallee,
    recordDir,
    exited,
    logs: () => lines.join('\n'),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      removeRunDir(runDir);
    },
  };
}

export interface Reply {
  status: number;
  json: unknown;
}

export async function rest(base: string, method: string, body?: unknown, token = TOKEN): Promise<Reply> {
  const r = await fetch(`${base}/rest-api/${method}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

export type Obj = Record<string, unknown>;
export const obj = (r: Reply): Obj => r.json as Obj;
export const arr = (r: Reply): Obj[] => (r.status === 200 ? (r.json as Obj[]) : []);

/** A raw GET (no URL normalisation by fetch), returning status, headers and body. */
export function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(200);
    v = await read();
  }
  return v;
}

export function videoOf(info: FfprobeResult) {
  return info.streams.find((s) => s.codec_type === 'video');
}
export function audioOf(info: FfprobeResult) {
  return info.streams.find((s) => s.codec_type === 'audio');
}

/** ffprobe of a live RTMP URL; the demo has an IDR every 10 s and nginx-rtmp starts a player's video at one. */
export function probeRtmp(url: string): Promise<FfprobeResult> {
  return ffprobe(url, { timeoutMs: 25_000, inputArgs: ['-analyzeduration', '15000000', '-probesize', '20000000'] });
}

/** Peak audio level of `seconds` of an RTMP stream (ffmpeg volumedetect), in dB. */
export async function rtmpMaxVolume(url: string, seconds: number): Promise<number> {
  const r = await runBounded('ffmpeg volumedetect', 'ffmpeg', ['-hide_banner', '-nostdin', '-i', url, '-t', String(seconds), '-vn', '-af', 'volumedetect', '-f', 'null', '-'], { timeoutMs: 30_000 });
  const m = /max_volume: (-?[\d.]+|-inf) dB/.exec(r.stderr);
  if (!m) throw new Error(`no volumedetect output: ${r.stderr.slice(-1500)}`);
  return m[1] === '-inf' ? -200 : Number(m[1]);
}

/**
 * Opens the record download URL in Chromium (its media document has one <video>), plays it at 4x and waits for
 * the end: returns the duration, decoded frames (getVideoPlaybackQuality), frames painted
 * (requestVideoFrameCallback) and size.
 */
export async function playInChromium(page: Page, url: string): Promise<{ duration: number; ended: boolean; currentTime: number; decoded: number; painted: number; width: number; height: number; ranges: string[] }> {
  const ranges: string[] = [];
  page.on('request', (r) => {
    const h = r.headers()['range'];
    if (r.url() === url && h) ranges.push(h);
  });
  await page.setExtraHTTPHeaders({ authorization: `Bearer ${TOKEN}` });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  const result = await page.evaluate(
    () =>
      new Promise<{ duration: number; ended: boolean; currentTime: number; decoded: number; painted: number; width: number; height: number }>((resolve, reject) => {
        const v = document.querySelector('video');
        if (!v) {
          reject(new Error('no <video> in the media document'));
          return;
        }
        let painted = 0;
        const onFrame = (): void => {
          painted++;
          v.requestVideoFrameCallback(onFrame);
        };
        v.requestVideoFrameCallback(onFrame);
        const done = (): void =>
          resolve({
            duration: v.duration,
            ended: v.ended,
            currentTime: v.currentTime,
            decoded: v.getVideoPlaybackQuality().totalVideoFrames,
            painted,
            width: v.videoWidth,
            height: v.videoHeight,
          });
        v.addEventListener('ended', done, { once: true });
        v.addEventListener('error', () => reject(new Error(`media error ${v.error?.code} ${v.error?.message}`)), { once: true });
        v.muted = true;
        const go = (): void => {
          v.playbackRate = 4;
          void v.play().catch((e: Error) => reject(e));
        };
        if (v.readyState >= 1) go();
        else v.addEventListener('loadedmetadata', go, { once: true });
        setTimeout(done, 25_000);
      }),
  );
  return { ...result, ranges };
}

export function expectH264Aac(info: FfprobeResult, durationS?: number, tolerance = 1): void {
  const v = videoOf(info);
  const a = audioOf(info);
  expect(v?.codec_name, JSON.stringify(info.streams)).toBe('h264');
  expect(v?.width).toBe(640);
  expect(v?.height).toBe(360);
  expect(a?.codec_name).toBe('aac');
  if (durationS !== undefined) {
    const d = Number(info.format?.duration);
    expect(Math.abs(d - durationS), `duration ${d} s`).toBeLessThanOrEqual(tolerance);
  }
}
