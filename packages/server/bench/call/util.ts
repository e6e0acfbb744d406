/**
 * Helpers of the call-setup benchmark (packages/server/bench/callSetup.ts): the sipcast server
 * as a child pinned to CPU 0, /proc readings (CPU, RSS, UDP drops), percentiles, REST calls.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function log(msg: string): void {
  process.stderr.write(`[callsetup] ${msg}\n`);
}

/** Monotonic now in ms (the same CLOCK_MONOTONIC as process.hrtime). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Children: each in its own process group, killed at the end (and on exit / SIGINT / SIGTERM).

const children = new Set<ChildProcess>();

export function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

export function killGroup(proc: ChildProcess, sig: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, sig);
  } catch {
    /* already gone */
  }
}

export function killAllChildren(): void {
  for (const c of children) killGroup(c, 'SIGKILL');
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone (bounded). */
export async function stopChild(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  killGroup(proc, 'SIGTERM');
  await Promise.race([gone, sleep(graceMs)]);
  killGroup(proc, 'SIGKILL');
  await Promise.race([gone, sleep(2000)]);
}

// ---------------------------------------------------------------------------------------------
// /proc

/** utime + stime of the whole process (all threads), in seconds; NaN when it is gone. */
export function procCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after ")": state(0) ... utime(11) stime(12)
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** utime and stime (s) of the whole process and of its main thread (the JS event loop). */
export function procCpuSplit(pid: number): { user: number; sys: number; mainUser: number; mainSys: number } {
  const read = (file: string): [number, number] => {
    try {
      const stat = readFileSync(file, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [Number(f[11]) / CLK_TCK, Number(f[12]) / CLK_TCK];
    } catch {
      return [NaN, NaN];
    }
  };
  const [user, sys] = read(`/proc/${pid}/stat`);
  const [mainUser, mainSys] = read(`/proc/${pid}/task/${pid}/stat`);
  return { user, sys, mainUser, mainSys };
}

/** VmRSS and VmHWM in MB. */
export function procMem(pid: number): { rssMb: number; hwmMb: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: NaN, hwmMb: NaN };
  }
}

/** Busy jiffies per CPU from /proc/stat (all processes), to show what else ran on the bench's CPUs. */
export function cpuBusyTicks(): number[] {
  const busy: number[] = [];
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const v = m[2]!.trim().split(/\s+/).map(Number);
      busy[Number(m[1])] = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!;
    }
  } catch {
    /* not Linux */
  }
  return busy;
}

/** Σ of the `drops` column of /proc/net/udp over sockets bound to 127.0.0.1 ports in [lo, hi]. */
export function udpDrops(lo: number, hi: number): number {
  let drops = 0;
  try {
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local) continue;
      const port = parseInt(local.split(':')[1] ?? '', 16);
      if (port >= lo && port <= hi) drops += Number(cols[cols.length - 1]) || 0;
    }
  } catch {
    /* not Linux */
  }
  return drops;
}

/** Counts sockets of /proc/net/udp bound to ports in [lo, hi]. */
export function udpSockets(lo: number, hi: number): number {
  let n = 0;
  try {
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (!local) continue;
      const port = parseInt(local.split(':')[1] ?? '', 16);
      if (port >= lo && port <= hi) n++;
    }
  } catch {
    /* not Linux */
  }
  return n;
}

/** A UDP port on 127.0.0.1 that is free right now (bound and released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r, j) => {
    s.once('error', j);
    s.bind(0, '127.0.0.1', () => r());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Percentile by linear interpolation between closest ranks (as docs/benchmarks.md's TTFF). */
export function pct(xs: readonly number[], p: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const r = (p / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo]! + (s[hi]! - s[lo]!) * (r - lo);
}

export function meanOf(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

export const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

// ---------------------------------------------------------------------------------------------
// The server

export interface ServerProc {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly httpPort: number;
  readonly wsPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  readonly maxCalls: number;
  readonly env?: Record<string, string>;
}

/**
 * `taskset -c 0 node --import tsx packages/server/src/main.ts` with the demo stream and the demo
 * callee off, every port picked by the OS except the RTP range. taskset execs node, so the
 * child's pid is the server's.
 */
export async function startServer(o: ServerOptions): Promise<ServerProc> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIPCAST_BIND: '127.0.0.1',
    SIPCAST_WS_PORT: '0',
    SIPCAST_HTTP_PORT: '0',
    SIPCAST_SIP_PORT: '0',
    SIPCAST_RTP_PORT_MIN: String(o.rtpPortMin),
    SIPCAST_RTP_PORT_MAX: String(o.rtpPortMax),
    SIPCAST_MAX_CALLS: String(o.maxCalls),
    SIPCAST_DEMO: 'false',
    SIPCAST_DEMO_CALLEE: 'false',
    SIPCAST_LOG_LEVEL: process.env['SIPCAST_LOG_LEVEL'] ?? 'warn',
    ...o.env,
  };
  const proc = track(
    spawn('taskset', ['-c', '0', process.execPath, '--import', 'tsx', path.join(REPO, 'packages', 'server', 'src', 'main.ts')], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 30 s; stderr: ${err.slice(-2000)}`)), 30_000);
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      if (line.startsWith('sipcast ready')) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready; stderr: ${err.slice(-2000)}`));
    });
  });
  const httpPort = Number(/http=http:\/\/[^:]+:(\d+)/.exec(ready)?.[1]);
  const wsPort = Number(/ws=ws:\/\/[^:]+:(\d+)/.exec(ready)?.[1]);
  const comm = readFileSync(`/proc/${proc.pid}/comm`, 'utf8').trim();
  if (comm !== 'node') throw new Error(`server pid ${proc.pid} is "${comm}", not node`);
  return {
    proc,
    pid: proc.pid!,
    httpPort,
    wsPort,
    stderr: () => err,
    stop: () => stopChild(proc, 5000),
  };
}

// ---------------------------------------------------------------------------------------------
// REST

export interface RestResult {
  status: number;
  body: unknown;
  /** hrtime (ms) right before fetch, and when the response body was read. */
  t0: number;
  t1: number;
}

export async function rest(httpPort: number, method: string, body: unknown, timeoutMs = 5000): Promise<RestResult> {
  const payload = JSON.stringify(body);
  const t0 = nowMs();
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/rest-api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const t1 = nowMs();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, t0, t1 };
  } catch (err) {
    // undici's "fetch failed" carries the real reason (reset, refused, timeout) in `cause`.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message;
    return { status: 0, body: `${(err as Error).message}${why ? ` (${why})` : ''}`, t0, t1: nowMs() };
  }
}
