/**
 * Parsing of ffmpeg's `-progress pipe:1` output: blocks of `key=value` lines, each block ending
 * with `progress=continue` (or `progress=end` at the last one).
 */

/** One progress report of ffmpeg. Values ffmpeg reports as N/A are 0. */
export interface FfmpegProgress {
  /** Video frames written so far (0 for audio-only outputs). */
  readonly frame: number;
  /**
   * Output time in milliseconds. ffmpeg's own `out_time_ms` field is in microseconds (a
   * long-standing ffmpeg quirk); this is converted to real milliseconds.
   */
  readonly outTimeMs: number;
  /** Speed relative to real time (1 = real time). */
  readonly speed: number;
  /** Output bitrate in kbit/s. */
  readonly bitrateKbps: number;
  /** Bytes written so far. */
  readonly totalSize: number;
  /** True for the final report (`progress=end`). */
  readonly end: boolean;
}

function num(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : 0;
}

/** Accumulates `-progress` lines and returns a report when a block completes. */
export class FfmpegProgressParser {
  #fields = new Map<string, string>();
  #partial = '';

  /** Feeds raw stdout text; returns the reports completed by it (usually zero or one). */
  push(chunk: string): FfmpegProgress[] {
    const out: FfmpegProgress[] = [];
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    if (this.#partial.length > 4096) this.#partial = ''; // not progress output: never grow
    for (const raw of lines) {
      const line = raw.trim();
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1).trim();
      if (key !== 'progress') {
        if (this.#fields.size < 64) this.#fields.set(key, value);
        continue;
      }
      out.push(this.#report(value === 'end'));
      this.#fields = new Map();
    }
    return out;
  }

  #report(end: boolean): FfmpegProgress {
    const f = this.#fields;
    const us = f.has('out_time_us') ? num(f.get('out_time_us')) : num(f.get('out_time_ms'));
    return {
      frame: num(f.get('frame')),
      outTimeMs: Math.max(0, Math.round(us / 1000)),
      speed: num(f.get('speed')?.replace(/x$/, '')),
      bitrateKbps: num(f.get('bitrate')?.replace(/kbits\/s$/, '')),
      totalSize: num(f.get('total_size')),
      end,
    };
  }
}

/** The last `capacity` lines of a text stream (ffmpeg's stderr), split at \n or \r. */
export class LineRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];
  readonly #map: (line: string) => string;
  #partial = '';

  /** `map` is applied to each complete line (e.g. to hide secrets). */
  constructor(capacity: number, map: (line: string) => string = (l) => l) {
    this.#capacity = Math.max(1, capacity);
    this.#map = map;
  }

  /** Feeds text; returns the complete lines it contained. */
  push(chunk: string): string[] {
    const parts = (this.#partial + chunk).split(/\r\n|\n|\r/);
    this.#partial = (parts.pop() ?? '').slice(-4096);
    const done = parts.filter((l) => l.trim() !== '').map((l) => this.#map(l.length > 1000 ? `${l.slice(0, 1000)}…` : l));
    for (const l of done) {
      this.#lines.push(l);
      if (this.#lines.length > this.#capacity) this.#lines.shift();
    }
    return done;
  }

  /** The kept lines, oldest first, plus an unterminated last line if any. */
  lines(): string[] {
    return this.#partial.trim() ? [...this.#lines, this.#map(this.#partial)] : [...this.#lines];
  }
}
