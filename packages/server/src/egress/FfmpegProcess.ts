/**
 * Supervises one ffmpeg child process: its stderr (last lines kept), its `-progress pipe:1`
 * reports, its exit, and a graceful stop (`q` on stdin, then SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../util/Logger.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { FfmpegProgressParser, LineRing, type FfmpegProgress } from './ffmpegProgress.js';

export type { FfmpegProgress } from './ffmpegProgress.js';

/** How an ffmpeg process ended. */
export interface FfmpegExit {
  /** Exit code, or null when killed by a signal or never started. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last stderr lines (oldest first). */
  readonly stderrTail: readonly string[];
  /** Set when the process could not be started (e.g. ENOENT). */
  readonly spawnError?: string;
  /** True when stop() was called before the process exited. */
  readonly requested: boolean;
}

export interface FfmpegProcessEvents extends Record<string, unknown[]> {
  progress: [progress: FfmpegProgress];
  /** Every complete stderr line, as it arrives. */
  stderr: [line: string];
  /** Exactly once, also when the process could not be started. */
  exit: [exit: FfmpegExit];
}

export interface FfmpegProcessOptions {
  /** How many stderr lines to keep; default 40. */
  readonly stderrLines?: number;
  readonly log?: Logger;
  /** Name in log lines. */
  readonly label?: string;
  /** Applied to every stderr line before it is kept, logged or emitted (hides secrets). */
  readonly redact?: (line: string) => string;
}

/** Timeouts of stop(). */
export interface FfmpegStopOptions {
  /** Wait this long after `q` before SIGTERM; default 2000 ms. 0 skips `q`. */
  readonly quitMs?: number;
  /** Wait this long after SIGTERM before SIGKILL; default 5000 ms. */
  readonly termMs?: number;
}

/**
 * One supervised ffmpeg. Construct with start(); listen to `exit`. Nothing here throws on a dead
 * or never-started process: stop() and kill() then simply resolve with the exit.
 */
export class FfmpegProcess extends TypedEmitter<FfmpegProcessEvents> {
  readonly args: readonly string[];
  readonly #child: ChildProcess;
  readonly #stderr: LineRing;
  readonly #progress = new FfmpegProgressParser();
  readonly #log: Logger | undefined;
  readonly #label: string;
  readonly exited: Promise<FfmpegExit>;
  #exit: FfmpegExit | undefined;
  #lastProgress: FfmpegProgress | undefined;
  #stopRequested = false;
  #stopping: Promise<FfmpegExit> | undefined;

  private constructor(path: string, args: readonly string[], opts: FfmpegProcessOptions) {
    super();
    this.args = args;
    this.#stderr = new LineRing(opts.stderrLines ?? 40, opts.redact);
    this.#log = opts.log;
    this.#label = opts.label ?? 'ffmpeg';
    let resolveExit!: (e: FfmpegExit) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    this.#child = spawn(path, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void => {
      if (this.#exit) return;
      const exit: FfmpegExit = { code, signal, stderrTail: this.#stderr.lines(), requested: this.#stopRequested, ...(spawnError ? { spawnError } : {}) };
      this.#exit = exit;
      resolveExit(exit);
      this.emit('exit', exit);
    };
    this.#child.once('error', (err) => finish(null, null, err.message));
    // 'close' (not 'exit'): all of stderr has been read by then.
    this.#child.once('close', (code, signal) => finish(code, signal));
    this.#child.stdin?.on('error', () => undefined); // EPIPE after ffmpeg exited
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const p of this.#progress.push(chunk)) {
        this.#lastProgress = p;
        this.emit('progress', p);
      }
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of this.#stderr.push(chunk)) {
        this.#log?.debug(`${this.#label}: ${line}`);
        this.emit('stderr', line);
      }
    });
  }

  /** Spawns `path args`. Never throws: a failed spawn ends in an `exit` with `spawnError`. */
  static start(path: string, args: readonly string[], opts: FfmpegProcessOptions = {}): FfmpegProcess {
    return new FfmpegProcess(path, args, opts);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }
  /** True until the process has exited (or failed to start). */
  get running(): boolean {
    return this.#exit === undefined;
  }
  get exitInfo(): FfmpegExit | undefined {
    return this.#exit;
  }
  get lastProgress(): FfmpegProgress | undefined {
    return this.#lastProgress;
  }
  /** The last stderr lines so far. */
  stderrTail(): string[] {
    return this.#stderr.lines();
  }

  /**
   * Graceful stop: `q` on stdin (ffmpeg finishes the output: trailer, moov), SIGTERM after
   * `quitMs` (ffmpeg also finishes the output on SIGTERM; a second SIGTERM follows after up to
   * 1 s to interrupt a blocking read), SIGKILL after `termMs` in all.
   * Idempotent; resolves with the exit.
   */
  stop(opts: FfmpegStopOptions = {}): Promise<FfmpegExit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    this.#stopRequested = true;
    this.#stopping ??= this.#stopSteps(opts.quitMs ?? 2000, opts.termMs ?? 5000);
    return this.#stopping;
  }

  /** Sends a signal now (no-op once exited). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exit) return;
    try {
      this.#child.kill(signal);
    } catch {
      /* already gone */
    }
  }

  async #stopSteps(quitMs: number, termMs: number): Promise<FfmpegExit> {
    if (quitMs > 0) {
      try {
        this.#child.stdin?.write('q');
      } catch {
        /* stdin closed */
      }
      if (await this.#exitWithin(quitMs)) return this.exited;
    }
    // ffmpeg finishes its output on the first signal, but that one does not interrupt a blocking
    // read of a silent input; the second one does (the third makes it exit at once).
    this.kill('SIGTERM');
    if (await this.#exitWithin(Math.min(1000, termMs / 2))) return this.exited;
    this.kill('SIGTERM');
    if (await this.#exitWithin(termMs - Math.min(1000, termMs / 2))) return this.exited;
    this.#log?.warn(`${this.#label}: no exit ${termMs} ms after SIGTERM, sending SIGKILL`);
    this.kill('SIGKILL');
    return this.exited;
  }

  #exitWithin(ms: number): Promise<boolean> {
    if (this.#exit) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

/** A one-line description of an ffmpeg exit for logs and REST answers. */
export function describeExit(exit: FfmpegExit): string {
  if (exit.spawnError) return `could not start ffmpeg: ${exit.spawnError}`;
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  const last = exit.stderrTail.filter((l) => !/^\s*$/.test(l)).slice(-2).join(' | ');
  return last ? `${how}: ${last}` : how;
}
