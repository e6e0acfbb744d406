/**
 * One recording of a stream: ffmpeg writes fragmented MP4 (`<name>.part.mp4`) as the media
 * arrives; when the recording stops, the file is remuxed to a plain MP4 with the index first
 * (`+faststart`, so `<video>` knows the duration at once) under its final name. If the remux
 * fails the fragmented file is kept under the final name; it plays as well.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LiveStream } from '../registry/LiveStream.js';
import type { Logger } from '../util/Logger.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { finaliseArgs, recordOutputArgs } from './ffmpegArgs.js';
import { FfmpegProcess } from './FfmpegProcess.js';
import { partName, renderRecordName, uniqueName, type RecordNameVars } from './recordName.js';
import { describeExit, FfmpegStartError, RtpFfmpegSink } from './RtpFfmpegSink.js';

export type RecorderStatus = 'PENDING' | 'RECORDING' | 'FINALISING' | 'DONE' | 'FAILED';

/** Texts a recording ends with. */
export const RECORDER_INFO = {
  restTerminate: 'Stopped by rest /terminate',
  publisherStop: 'Stopped by publisher stop',
  shutdown: 'Stopped by server shutdown',
  error: 'Failed by error',
} as const;

export interface RecorderOptions {
  readonly ffmpegPath: string;
  /** Absolute records directory. */
  readonly dir: string;
  readonly template: string;
  readonly log: Logger;
  /** Started by `sip_record_stream` rather than REST. */
  readonly auto: boolean;
  /** Longest time the final remux may take; default 120 s. */
  readonly finaliseTimeoutMs?: number;
}

export interface RecorderEvents extends Record<string, unknown[]> {
  ended: [recorder: Recorder];
}

/** The REST view of a recording. */
export interface RecorderJson {
  id: string;
  mediaSessionId: string;
  streamName: string;
  status: RecorderStatus;
  info: string;
  recordName: string | null;
  startTime: number;
  endTime: number | null;
  durationMs: number;
  size: number;
  auto: boolean;
  lastError: string | null;
}


/** Records one stream from its first keyframe until stop(), the stream's end or a failure. */
export class Recorder extends TypedEmitter<RecorderEvents> {
  readonly id = randomUUID();
  readonly streamName: string;
  readonly mediaSessionId: string;
  readonly auto: boolean;
  readonly #stream: LiveStream;
  readonly #opts: RecorderOptions;
  readonly #log: Logger;
  #status: RecorderStatus = 'PENDING';
  #info = '';
  #recordName: string | null = null;
  #startTime = Date.now();
  #endTime: number | null = null;
  #durationMs = 0;
  #size = 0;
  #lastError: string | null = null;
  #sink: RtpFfmpegSink | undefined;
  #finishing: Promise<void> | undefined;
  #vars: RecordNameVars | undefined;

  constructor(stream: LiveStream, opts: RecorderOptions) {
    super();
    this.#stream = stream;
    this.streamName = stream.name;
    this.mediaSessionId = stream.mediaSessionId;
    this.auto = opts.auto;
    this.#opts = opts;
    this.#log = opts.log;
  }

  get status(): RecorderStatus {
    return this.#status;
  }
  /** True once finalising has begun. */
  get stopping(): boolean {
    return this.#finishing !== undefined;
  }
  get ended(): boolean {
    return this.#status === 'DONE' || this.#status === 'FAILED';
  }
  /** The file being written (`*.part.mp4`) or, once finished, the final file; null before. */
  get recordName(): string | null {
    return this.#recordName;
  }

  /** Starts now, or when the stream publishes if it is only reserved. */
  start(): void {
    const s = this.#stream;
    if (s.ended) {
      void this.stop(RECORDER_INFO.publisherStop);
      return;
    }
    s.once('ended', () => {
      if (!this.#sink) void this.stop(RECORDER_INFO.publisherStop);
    });
    if (s.status === 'PUBLISHING') void this.#run();
    else s.once('published', () => void this.#run());
  }

  /** Stops and finalises the file; resolves when the final file is in place. Idempotent. */
  stop(info: string = RECORDER_INFO.restTerminate, failed = false): Promise<void> {
    this.#finishing ??= this.#finish(info, failed);
    return this.#finishing;
  }

  toJSON(): RecorderJson {
    const p = this.#sink?.ffmpeg.lastProgress;
    return {
      id: this.id,
      mediaSessionId: this.mediaSessionId,
      streamName: this.streamName,
      status: this.#status,
      info: this.#info,
      recordName: this.#recordName,
      startTime: this.#startTime,
      endTime: this.#endTime,
      durationMs: p && !this.ended ? p.outTimeMs : this.#durationMs,
      size: p && !this.ended ? p.totalSize : this.#size,
      auto: this.auto,
      lastError: this.#lastError,
    };
  }

  /** Picks the file name (the stream's codecs are known once it published). */
  #prepare(): string {
    const s = this.#stream;
    this.#startTime = Date.now();
    this.#vars = {
      streamName: s.name,
      startTime: this.#startTime,
      mediaSessionId: s.mediaSessionId,
      audioCodec: s.media.audio?.codec ?? '',
      videoCodec: s.media.video?.codec ?? '',
    };
    const dir = this.#opts.dir;
    mkdirSync(dir, { recursive: true });
    const base = uniqueName(renderRecordName(this.#opts.template, this.#vars), (n) => existsSync(join(dir, n)) || existsSync(join(dir, partName(n))));
    this.#recordName = partName(base);
    return this.#recordName;
  }

  async #run(): Promise<void> {
    if (this.stopping) return;
    const s = this.#stream;
    const dir = this.#opts.dir;
    let sink: RtpFfmpegSink;
    let part = '';
    try {
      part = this.#prepare();
      sink = await RtpFfmpegSink.start(s, {
        ffmpegPath: this.#opts.ffmpegPath,
        label: `record ${s.name}`,
        log: this.#log,
        outputArgs: (layout) => recordOutputArgs(layout, join(dir, part)),
      });
    } catch (err) {
      this.#lastError = err instanceof FfmpegStartError && err.exit ? describeExit(err.exit) : (err as Error).message;
      this.#log.warn(`record ${this.streamName}: could not start: ${this.#lastError}`);
      await this.stop(RECORDER_INFO.error, true);
      return;
    }
    if (this.stopping) {
      // stopped while ffmpeg was starting: whatever it wrote is not the recording
      await sink.stop();
      if (this.#recordName !== part) await unlink(join(dir, part)).catch(() => undefined);
      return;
    }
    this.#sink = sink;
    this.#log.info(`record ${this.streamName}: writing ${this.#recordName}`);
    sink.on('progress', (p) => {
      if (this.#status === 'PENDING' && p.totalSize > 0) this.#status = 'RECORDING';
    });
    sink.on('exit', (exit) => {
      this.#lastError = describeExit(exit);
      this.#log.warn(`record ${this.streamName}: ffmpeg exited: ${this.#lastError}`);
      void this.stop(RECORDER_INFO.error, true);
    });
    sink.on('streamEnded', () => void this.stop(RECORDER_INFO.publisherStop));
  }

  async #finish(info: string, failed: boolean): Promise<void> {
    this.#status = 'FINALISING';
    this.#info = info;
    const sink = this.#sink;
    if (sink) {
      const p = sink.ffmpeg.lastProgress;
      await sink.stop();
      const last = sink.ffmpeg.lastProgress ?? p;
      this.#durationMs = last?.outTimeMs ?? 0;
    }
    this.#endTime = Date.now();
    const ok = await this.#finaliseFile().catch((err: Error) => {
      this.#lastError = err.message;
      this.#log.warn(`record ${this.streamName}: finalising failed: ${err.message}`);
      return false;
    });
    this.#status = failed || !ok ? 'FAILED' : 'DONE';
    if (!ok && !failed) this.#info = RECORDER_INFO.error;
    this.#log.info(`record ${this.streamName}: ${this.#status} ${this.#recordName ?? '(no file)'} (${this.#info})`);
    this.emit('ended', this);
  }

  /** Remuxes `*.part.mp4` into the final name; false when nothing was recorded. */
  async #finaliseFile(): Promise<boolean> {
    const dir = this.#opts.dir;
    const part = this.#recordName;
    if (!part || !this.#vars) return false;
    const partPath = join(dir, part);
    const st = await stat(partPath).catch(() => undefined);
    if (!st || st.size === 0) {
      await unlink(partPath).catch(() => undefined);
      this.#recordName = null;
      this.#lastError ??= 'nothing was recorded';
      return false;
    }
    const final = uniqueName(renderRecordName(this.#opts.template, { ...this.#vars, endTime: this.#endTime ?? Date.now() }), (n) => existsSync(join(dir, n)));
    const finalPath = join(dir, final);
    const tmpPath = `${finalPath}.tmp`;
    const remux = FfmpegProcess.start(this.#opts.ffmpegPath, finaliseArgs(partPath, tmpPath), { log: this.#log, label: `finalise ${final}` });
    const timer = setTimeout(() => remux.kill('SIGKILL'), this.#opts.finaliseTimeoutMs ?? 120_000);
    const exit = await remux.exited;
    clearTimeout(timer);
    const out = await stat(tmpPath).catch(() => undefined);
    if (exit.code === 0 && out && out.size > 0) {
      await rename(tmpPath, finalPath);
      await unlink(partPath).catch(() => undefined);
      this.#size = out.size;
    } else {
      this.#log.warn(`record ${this.streamName}: remux failed (${describeExit(exit)}); keeping the fragmented MP4 as ${final}`);
      await unlink(tmpPath).catch(() => undefined);
      await rename(partPath, finalPath);
      this.#size = st.size;
    }
    this.#recordName = final;
    return true;
  }
}
