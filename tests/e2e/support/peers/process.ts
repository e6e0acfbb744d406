/**
 * Child-process plumbing shared by the peer helpers.
 *
 * Every peer runs in its own process group (spawn `detached`), wrapped in coreutils `timeout` so that it dies
 * on its own even if the test runner is killed without running teardown. `stop()` signals the whole group
 * (kamailio forks workers), waits, then SIGKILLs the group. A process `exit` hook SIGKILLs every group that is
 * still running. stdout/stderr are kept in memory line by line; files a peer writes (SIPp message traces) can
 * be folded into `logs()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** Checked-in peer configs and scenarios. */
export const PEERS_DIR = path.join(REPO_ROOT, 'tests', 'peers');
/** Scratch root (git-ignored). */
export const RUN_ROOT = path.join(REPO_ROOT, '.run');
/** Per-process run directories live below this. */
export const PEERS_RUN_ROOT = path.join(RUN_ROOT, 'peers');

const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

/** Absolute path of an executable found on PATH or in the sbin directories (kamailio and nginx live in /usr/sbin). */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export function requireBinary(name: string): string {
  const p = findBinary(name);
  if (!p) throw new Error(`peers: executable "${name}" not found (PATH and sbin directories searched)`);
  return p;
}

let runCounter = 0;
/** A fresh directory .run/peers/<label>-<pid>-<n>-<time>. */
export function makeRunDir(label: string): string {
  runCounter += 1;
  const dir = path.join(PEERS_RUN_ROOT, `${label}-${process.pid}-${runCounter}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a run dir unless SIPCAST_E2E_KEEP_PEER_RUNS=1 (then it is left for inspection). */
export function removeRunDir(dir: string): void {
  if (process.env.SIPCAST_E2E_KEEP_PEER_RUNS === '1') return;
  if (!dir.startsWith(PEERS_RUN_ROOT + path.sep)) return;
  rmSync(dir, { recursive: true, force: true });
}

export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnPeerOptions {
  /** Label used in log prefixes and errors, e.g. "kamailio" or "baresip-bob". */
  name: string;
  /** Absolute path of the executable. */
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Hard upper bound on the process lifetime (coreutils `timeout`), seconds. */
  maxLifetimeSec: number;
  /** Files whose contents are appended to logs() (read when logs() is called, or captured on stop). */
  logFiles?: string[];
  /** Run directory that stop() removes (after capturing logFiles). */
  runDir?: string;
}

export interface PeerProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** pid of the `timeout` wrapper = process group id of the peer. */
  readonly pid: number;
  readonly exited: Promise<PeerExit>;
  /** true until the process has exited. */
  running(): boolean;
  /** stdout/stderr lines so far (prefixed [out]/[err]). */
  lines(): readonly string[];
  /** All output plus the contents of the log files. */
  logs(): string;
  /** Resolves with the match of the first line (already seen or future) matching `re`. */
  waitForLine(re: RegExp, timeoutMs: number, what?: string): Promise<RegExpMatchArray>;
  /** Signal the process group without waiting. */
  signal(sig: NodeJS.Signals): void;
  /** Signal (default SIGTERM) the group, wait graceMs (default 5000), then SIGKILL. Idempotent. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<PeerExit>;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* group gone */
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
}

export function spawnPeer(opts: SpawnPeerOptions): PeerProcess {
  installExitHook();
  const timeoutBin = requireBinary('timeout');
  const out: string[] = [];
  const capturedFiles = new Map<string, string>();
  const proc = spawn(timeoutBin, ['-k', '5', String(Math.max(1, Math.ceil(opts.maxLifetimeSec))), opts.command, ...opts.args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (proc.pid === undefined) throw new Error(`peers: could not spawn ${opts.command}`);
  const pid = proc.pid;
  liveGroups.add(pid);

  type Waiter = { re: RegExp; resolve: (m: RegExpMatchArray) => void };
  const waiters = new Set<Waiter>();
  const onLine = (line: string): void => {
    for (const w of waiters) {
      const m = line.match(w.re);
      if (m) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  };

  const collect = (label: string) => {
    let partial = '';
    return (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        const line = raw.replace(/\r$/, '');
        out.push(`[${label}] ${line}`);
        onLine(line);
      }
    };
  };
  proc.stdout?.on('data', collect('out'));
  proc.stderr?.on('data', collect('err'));

  let exitInfo: PeerExit | null = null;
  const exited = new Promise<PeerExit>((resolve) => {
    const finish = (info: PeerExit, line: string) => {
      if (exitInfo) return;
      exitInfo = info;
      out.push(line);
      // The wrapper is gone; make sure nothing of the group survives it.
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
      resolve(info);
    };
    proc.once('exit', (code, signal) => finish({ code, signal }, `[exit] code=${code} signal=${signal}`));
    // a failed spawn emits 'error' and possibly no 'exit'
    proc.once('error', (err) => finish({ code: null, signal: null }, `[spawn error] ${err.message}`));
  });

  const readFiles = (): string => {
    const parts: string[] = [];
    for (const f of opts.logFiles ?? []) {
      let text = capturedFiles.get(f);
      if (text === undefined && existsSync(f)) {
        try {
          text = readFileSync(f, 'utf8');
        } catch {
          /* unreadable */
        }
      }
      if (text !== undefined && text.length > 0) parts.push(`--- ${path.basename(f)} ---\n${text}`);
    }
    return parts.join('\n');
  };

  let stopping: Promise<PeerExit> | null = null;

  const handle: PeerProcess = {
    name: opts.name,
    proc,
    pid,
    exited,
    running: () => exitInfo === null,
    lines: () => out,
    logs: () => {
      const files = readFiles();
      return out.join('\n') + (files ? `\n${files}` : '');
    },
    waitForLine: (re, timeoutMs, what) => {
      for (const l of out) {
        const m = l.replace(/^\[(out|err)\] /, '').match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise<RegExpMatchArray>((resolve, reject) => {
        const w: Waiter = {
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${opts.name}: no ${what ?? String(re)} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
        void exited.then((e) => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(timer);
          reject(new Error(`${opts.name}: exited (code ${e.code}, signal ${e.signal}) before ${what ?? String(re)}`));
        });
      });
    },
    signal: (sig) => {
      if (exitInfo === null) killGroup(pid, sig);
    },
    stop: (stopOpts = {}) => {
      if (stopping) return stopping;
      stopping = (async () => {
        if (exitInfo === null) {
          killGroup(pid, stopOpts.signal ?? 'SIGTERM');
          const graceMs = stopOpts.graceMs ?? 5_000;
          const timer = setTimeout(() => {
            out.push(`[peers] ${opts.name}: still running ${graceMs} ms after ${stopOpts.signal ?? 'SIGTERM'}, SIGKILL`);
            killGroup(pid, 'SIGKILL');
          }, graceMs);
          await exited;
          clearTimeout(timer);
        }
        // keep the log files in memory, then drop the run directory
        for (const f of opts.logFiles ?? []) {
          if (!capturedFiles.has(f) && existsSync(f)) {
            try {
              capturedFiles.set(f, readFileSync(f, 'utf8'));
            } catch {
              /* ignore */
            }
          }
        }
        if (opts.runDir) removeRunDir(opts.runDir);
        return exited;
      })();
      return stopping;
    },
  };
  return handle;
}

/** Runs a command to completion (bounded), collecting output. Rejects on timeout; resolves with the exit code. */
export async function runBounded(
  name: string,
  command: string,
  args: string[],
  opts: { cwd?: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = proc.pid;
    if (pid !== undefined) liveGroups.add(pid);
    installExitHook();
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    }, opts.timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name}: ${err.message}`));
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      if (timedOut) {
        reject(new Error(`${name}: no exit within ${opts.timeoutMs} ms\n${stderr.slice(-4000)}`));
      } else {
        resolve({ code, signal, stdout, stderr });
      }
    });
  });
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function pollUntil<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
