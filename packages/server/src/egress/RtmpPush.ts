/**
 * One RTMP push ("transponder"): a stream republished to an RTMP URL by an ffmpeg fed over
 * loopback RTP. It waits for the stream to publish, starts at a keyframe, and ends STOPPED (REST
 * terminate, stream ended) or FAILED "Failed by RTMP writer error" (ffmpeg or the RTMP server
 * failed); the stream and its other sinks are never affected.
 */
import { randomUUID } from 'node:crypto';
import type { LiveStream } from '../registry/LiveStream.js';
import type { Logger } from '../util/Logger.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { PushAudioCodec } from './egressSettings.js';
import { pushAudioOut, pushOutputArgs } from './ffmpegArgs.js';
import { redactIn, redactRtmpUrl } from './pushTarget.js';
import { describeExit, FfmpegStartError, RtpFfmpegSink } from './RtpFfmpegSink.js';

/** Status of a push, in STREAM_STATUS terms. */
export type PushStatus = 'PENDING' | 'PUBLISHING' | 'STOPPED' | 'FAILED';

/** STREAM_STATUS_INFO texts a push ends with. */
export const PUSH_INFO = {
  writerError: 'Failed by RTMP writer error',
  restTerminate: 'Stopped by rest /terminate',
  publisherStop: 'Stopped by publisher stop',
} as const;

export interface RtmpPushOptions {
  readonly ffmpegPath: string;
  readonly audioCodec: PushAudioCodec;
  readonly log: Logger;
  /** The URL as given in the request (for /push/find by rtmpUrl). */
  readonly requestedUrl: string;
  /** The `options` object of the request, echoed back. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly muted: boolean;
}

export interface RtmpPushEvents extends Record<string, unknown[]> {
  ended: [push: RtmpPush];
}

/** The REST view of a push (wire contract §4 fields plus sipcast extensions). */
export interface PushJson {
  mediaSessionId: string;
  streamName: string;
  rtmpUrl: string;
  width: number;
  height: number;
  muted: boolean;
  soundEnabled: boolean;
  options: Readonly<Record<string, unknown>>;
  status: PushStatus;
  info: string;
  audioCodec: string;
  startTime: number;
  endTime: number | null;
  lastError: string | null;
}

/** A push of one stream to one RTMP target. Call start() once. */
export class RtmpPush extends TypedEmitter<RtmpPushEvents> {
  readonly mediaSessionId = randomUUID();
  readonly streamName: string;
  /** The effective target ffmpeg publishes to. */
  readonly rtmpUrl: string;
  readonly requestedUrl: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly startTime = Date.now();
  readonly #stream: LiveStream;
  readonly #opts: RtmpPushOptions;
  readonly #log: Logger;
  #status: PushStatus = 'PENDING';
  #info = '';
  #muted: boolean;
  #sink: RtpFfmpegSink | undefined;
  #width = 0;
  #height = 0;
  #endTime: number | null = null;
  #lastError: string | null = null;
  #audioOut = '';

  constructor(stream: LiveStream, target: string, opts: RtmpPushOptions) {
    super();
    this.#stream = stream;
    this.streamName = stream.name;
    this.rtmpUrl = target;
    this.requestedUrl = opts.requestedUrl;
    this.options = opts.options;
    this.#opts = opts;
    this.#muted = opts.muted;
    this.#log = opts.log;
  }

  get status(): PushStatus {
    return this.#status;
  }
  get info(): string {
    return this.#info;
  }
  get ended(): boolean {
    return this.#status === 'STOPPED' || this.#status === 'FAILED';
  }
  get muted(): boolean {
    return this.#muted;
  }
  get endTime(): number | null {
    return this.#endTime;
  }

  /** Starts now, or when the stream publishes if it is only reserved. */
  start(): void {
    const s = this.#stream;
    if (s.ended) {
      this.#end('STOPPED', PUSH_INFO.publisherStop);
      return;
    }
    s.once('ended', () => {
      if (!this.#sink) this.#end('STOPPED', PUSH_INFO.publisherStop);
    });
    if (s.status === 'PUBLISHING') void this.#run();
    else s.once('published', () => void this.#run());
  }

  /** Replaces the pushed audio by silence (the FLV audio track keeps going) or restores it. */
  setMuted(muted: boolean): void {
    this.#muted = muted;
    this.#sink?.setMuted(muted);
  }

  /** Stops the push (REST terminate or server shutdown). */
  async terminate(info: string = PUSH_INFO.restTerminate): Promise<void> {
    await this.#end('STOPPED', info);
  }

  toJSON(): PushJson {
    const live = !this.ended;
    return {
      mediaSessionId: this.mediaSessionId,
      streamName: this.streamName,
      rtmpUrl: this.rtmpUrl,
      width: live ? this.#stream.width : this.#width,
      height: live ? this.#stream.height : this.#height,
      muted: this.#muted,
      soundEnabled: false,
      options: this.options,
      status: this.#status,
      info: this.#info,
      audioCodec: this.#audioOut,
      startTime: this.startTime,
      endTime: this.#endTime,
      lastError: this.#lastError,
    };
  }

  async #run(): Promise<void> {
    if (this.ended) return;
    const target = this.rtmpUrl;
    let sink: RtpFfmpegSink;
    try {
      sink = await RtpFfmpegSink.start(this.#stream, {
        ffmpegPath: this.#opts.ffmpegPath,
        label: `push ${this.streamName} -> ${redactRtmpUrl(target)}`,
        redact: (text) => redactIn(text, target),
        log: this.#log,
        muted: this.#muted,
        outputArgs: (layout) => {
          this.#audioOut = pushAudioOut(layout, this.#opts.audioCodec);
          return pushOutputArgs(layout, target, this.#opts.audioCodec);
        },
      });
    } catch (err) {
      const detail = err instanceof FfmpegStartError && err.exit ? describeExit(err.exit) : (err as Error).message;
      await this.#fail(detail);
      return;
    }
    if (this.ended) {
      await sink.stop();
      return;
    }
    this.#sink = sink;
    sink.setMuted(this.#muted);
    sink.on('progress', () => {
      if (this.#status === 'PENDING') {
        this.#status = 'PUBLISHING';
        this.#log.info(`push ${this.mediaSessionId}: ${this.streamName} -> ${redactRtmpUrl(target)} publishing`);
      }
    });
    sink.on('exit', (exit) => void this.#fail(describeExit(exit)));
    sink.on('streamEnded', () => void this.#end('STOPPED', PUSH_INFO.publisherStop));
  }

  async #fail(detail: string): Promise<void> {
    if (this.ended) return;
    this.#lastError = detail;
    this.#log.warn(`push ${this.mediaSessionId}: ${this.streamName} -> ${redactRtmpUrl(this.rtmpUrl)} failed: ${detail}`);
    await this.#end('FAILED', PUSH_INFO.writerError);
  }

  async #end(status: 'STOPPED' | 'FAILED', info: string): Promise<void> {
    if (this.ended) return;
    this.#width = this.#stream.width;
    this.#height = this.#stream.height;
    this.#status = status;
    this.#info = info;
    this.#endTime = Date.now();
    if (status === 'STOPPED') this.#log.info(`push ${this.mediaSessionId}: ${this.streamName} stopped (${info})`);
    const sink = this.#sink;
    this.#sink = undefined;
    this.emit('ended', this);
    if (sink) await sink.stop();
  }
}
