/**
 * A MediaSink that feeds a stream's RTP to an ffmpeg child over loopback UDP. ffmpeg reads an
 * SDP file describing the ports; the sink waits until ffmpeg has bound them and only then joins
 * the stream, so the first video it forwards is the keyframe the stream starts it with.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaDescription, MediaKind } from '../media/MediaTypes.js';
import type { MediaSink, StreamEnd } from '../registry/MediaSink.js';
import type { Logger } from '../util/Logger.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { silenceLeadIn, silentRtpPacket } from './audioSilence.js';
import { inputArgs } from './ffmpegArgs.js';
import { describeExit, FfmpegProcess, type FfmpegExit, type FfmpegProgress } from './FfmpegProcess.js';
import { rtcpBye, rtcpKeepalive } from './rtcpControl.js';
import { PacedUdpSender } from './PacedUdpSender.js';
import { buildFfmpegSdp, FFMPEG_AUDIO_PT, FFMPEG_VIDEO_PT, layoutFor, portsNeeded, type FfmpegRtpLayout } from './rtpSdp.js';
import { allocatePortPairs, canInspectSockets, processHasBound, releasePorts } from './udpPorts.js';

export { describeExit } from './FfmpegProcess.js';

/** The part of LiveStream a sink owner needs. */
export interface EgressStream {
  readonly name: string;
  readonly mediaSessionId: string;
  readonly media: MediaDescription;
  readonly width: number;
  readonly height: number;
  addSink(sink: MediaSink): void;
  removeSink(sinkId: string): void;
}

export interface RtpFfmpegSinkOptions {
  readonly ffmpegPath: string;
  /** ffmpeg arguments after the input (codecs, muxer, output), given the tracks it receives. */
  readonly outputArgs: (layout: FfmpegRtpLayout) => string[];
  readonly log: Logger;
  /** Name in log lines and the sink id prefix. */
  readonly label: string;
  /** Forward audio (default true) / video (default true) when the stream has it. */
  readonly audio?: boolean;
  readonly video?: boolean;
  /** Start with audio replaced by silence. */
  readonly muted?: boolean;
  /** Applied to the logged command line and to ffmpeg's stderr lines (hides secrets). */
  readonly redact?: (text: string) => string;
  /** How long ffmpeg may take to bind its ports; default 5000 ms. */
  readonly bindTimeoutMs?: number;
}

export interface RtpFfmpegSinkEvents extends Record<string, unknown[]> {
  /** ffmpeg exited without stop() being called (crash, output error). */
  exit: [exit: FfmpegExit];
  progress: [progress: FfmpegProgress];
  stderr: [line: string];
  resize: [width: number, height: number];
  /** The stream ended; the sink is already detached (call stop() to finish ffmpeg). */
  streamEnded: [end: StreamEnd];
}

/** ffmpeg ended before it was ready to receive. */
export class FfmpegStartError extends Error {
  override readonly name = 'FfmpegStartError';
  readonly exit: FfmpegExit | undefined;
  constructor(message: string, exit?: FfmpegExit) {
    super(message);
    this.exit = exit;
  }
}

const KEEPALIVE_MS = 2000;
const FALLBACK_BIND_WAIT_MS = 700;
let sinkSeq = 0;

/**
 * Feeds one stream to one ffmpeg. Audio is held back until the first video packet (a keyframe)
 * when the stream has video, and starts with a silent lead-in as long as the video timeline
 * already is (the squeezed replay of a cached keyframe group), so both tracks line up in
 * ffmpeg's timeline. RTCP sender reports are not forwarded: ffmpeg bases each track at its first
 * packet (see docs/recording-and-push.md).
 */
export class RtpFfmpegSink extends TypedEmitter<RtpFfmpegSinkEvents> implements MediaSink {
  readonly id: string;
  readonly payloadTypes: Readonly<Partial<Record<MediaKind, number>>>;
  readonly layout: FfmpegRtpLayout;
  readonly ffmpeg: FfmpegProcess;
  readonly counters = { videoPackets: 0, audioPackets: 0, audioHeldBack: 0 };
  readonly #stream: EgressStream;
  readonly #sender: PacedUdpSender;
  readonly #ports: number[];
  readonly #dir: string;
  readonly #log: Logger;
  #muted: boolean;
  #videoStarted = false;
  #audioStarted = false;
  #firstVideoTs = 0;
  #lastVideoTs = 0;
  #lastVideoAt = 0;
  #attached = false;
  #streamEnded = false;
  #stopping: Promise<FfmpegExit> | undefined;
  /** Packets of the video frame being received, sent when its marker packet arrives. */
  #pendingFrame: Buffer[] = [];
  #pendingFrameTs = -1;
  #keepalive: NodeJS.Timeout | undefined;
  #cleaned = false;

  private constructor(stream: EgressStream, layout: FfmpegRtpLayout, ffmpeg: FfmpegProcess, sender: PacedUdpSender, ports: number[], dir: string, opts: RtpFfmpegSinkOptions) {
    super();
    this.id = `${opts.label}#${++sinkSeq}`;
    this.#stream = stream;
    this.layout = layout;
    this.ffmpeg = ffmpeg;
    this.#sender = sender;
    this.#ports = ports;
    this.#dir = dir;
    this.#log = opts.log;
    this.#muted = opts.muted ?? false;
    this.payloadTypes = {
      ...(layout.video ? { video: FFMPEG_VIDEO_PT } : {}),
      ...(layout.audio ? { audio: FFMPEG_AUDIO_PT[layout.audio.codec] } : {}),
    };
    ffmpeg.on('progress', (p) => this.emit('progress', p));
    ffmpeg.on('stderr', (l) => this.emit('stderr', l));
    ffmpeg.on('exit', (exit) => {
      this.#cleanup();
      if (!exit.requested) this.emit('exit', exit);
    });
  }

  /**
   * Starts ffmpeg for the stream's current media, waits until it listens, then joins the stream.
   * The stream must have published (its `media` known).
   *
   * @throws FfmpegStartError when ffmpeg cannot start or does not bind its ports in time.
   */
  static async start(stream: EgressStream, opts: RtpFfmpegSinkOptions): Promise<RtpFfmpegSink> {
    const wantAudio = opts.audio ?? true;
    const wantVideo = opts.video ?? true;
    const n = portsNeeded(stream.media, wantAudio, wantVideo);
    if (n === 0) throw new FfmpegStartError(`stream ${stream.name} has no media to forward`);
    const ports = await allocatePortPairs(n);
    let dir: string | undefined;
    let sender: PacedUdpSender | undefined;
    let sink: RtpFfmpegSink | undefined;
    try {
      const layout = layoutFor(stream.media, ports, wantAudio, wantVideo);
      dir = await mkdtemp(join(tmpdir(), 'sipcast-egress-'));
      const sdpPath = join(dir, 'in.sdp');
      await writeFile(sdpPath, buildFfmpegSdp(layout, stream.name));
      sender = await PacedUdpSender.open();
      const args = [...inputArgs(sdpPath), ...opts.outputArgs(layout)];
      const redact = opts.redact ?? ((t: string): string => t);
      opts.log.debug(`${opts.label}: ${redact(`${opts.ffmpegPath} ${args.join(' ')}`)}`);
      const ffmpeg = FfmpegProcess.start(opts.ffmpegPath, args, { log: opts.log, label: opts.label, redact });
      sink = new RtpFfmpegSink(stream, layout, ffmpeg, sender, ports, dir, opts);
      await sink.#waitBound(opts.bindTimeoutMs ?? 5000);
      sink.#attach(); // throws when the stream ended meanwhile
      return sink;
    } catch (err) {
      if (sink) {
        sink.ffmpeg.kill('SIGKILL');
        await sink.ffmpeg.exited; // its exit handler cleans up
      } else {
        sender?.close();
        releasePorts(ports);
        if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
      throw err instanceof FfmpegStartError ? err : new FfmpegStartError((err as Error).message);
    }
  }

  get muted(): boolean {
    return this.#muted;
  }
  /** Replaces audio by silence of the same duration (true) or forwards it again (false). */
  setMuted(muted: boolean): void {
    this.#muted = muted;
  }
  get streamEnded(): boolean {
    return this.#streamEnded;
  }
  /** Bytes sent to ffmpeg so far. */
  get bytesSent(): number {
    return this.#sender.counters.bytes;
  }

  sendRtp(kind: MediaKind, packet: Buffer): void {
    if (kind === 'video') {
      const v = this.layout.video;
      if (!v) return;
      const ts = packet.readUInt32BE(4);
      if (!this.#videoStarted) this.#firstVideoTs = ts;
      this.#videoStarted = true;
      this.#lastVideoTs = ts;
      this.#lastVideoAt = performance.now();
      this.counters.videoPackets++;
      // A frame goes to ffmpeg only once its last packet (marker) is here: a stop or a stream end in
      // the middle of a frame then drops the partial frame instead of muxing a truncated one, which
      // players refuse to decode.
      if (this.#pendingFrame.length > 0 && this.#pendingFrameTs !== ts) this.#flushFrame(v.port);
      this.#pendingFrameTs = ts;
      this.#pendingFrame.push(Buffer.from(packet));
      if (packet[1]! & 0x80) this.#flushFrame(v.port);
      return;
    }
    const a = this.layout.audio;
    if (!a) return;
    if (this.layout.video && !this.#videoStarted) {
      this.counters.audioHeldBack++;
      return;
    }
    if (!this.#audioStarted) {
      this.#audioStarted = true;
      if (this.layout.video) for (const p of silenceLeadIn(packet, a.codec, this.#videoLeadMs())) this.#sender.send(p, a.port);
    }
    const out = this.#muted ? silentRtpPacket(packet, a.codec) : Buffer.from(packet);
    if (!out) return;
    this.counters.audioPackets++;
    this.#sender.send(out, a.port);
  }

  #flushFrame(port: number): void {
    for (const p of this.#pendingFrame) this.#sender.send(p, port);
    this.#pendingFrame = [];
  }

  /**
   * How far the video timeline (based at its first packet) is ahead of now, in ms: ffmpeg bases
   * each track at its first packet, so audio gets a silent lead-in of this length to line up.
   * About 0 for a live keyframe; the length of the squeezed replay for a cached keyframe group.
   */
  #videoLeadMs(): number {
    const span = (this.#lastVideoTs - this.#firstVideoTs) >>> 0;
    if (span > 0x7fffffff) return 0;
    return Math.min(2000, span / 90 + (performance.now() - this.#lastVideoAt));
  }

  sendRtcp(): void {
    // Not forwarded: see the class comment.
  }

  onResize(width: number, height: number): void {
    this.emit('resize', width, height);
  }

  onStreamEnd(end: StreamEnd): void {
    this.#attached = false;
    this.#streamEnded = true;
    this.emit('streamEnded', end);
  }

  /**
   * Finishes ffmpeg gracefully: stops feeding, sends RTCP BYE on every track (ffmpeg reads it as
   * the end of input and writes the trailer), `q`, then SIGTERM / SIGKILL after timeouts.
   * Idempotent; never throws.
   */
  stop(): Promise<FfmpegExit> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<FfmpegExit> {
    this.#detach();
    this.#pendingFrame = [];
    if (this.#keepalive) clearInterval(this.#keepalive);
    if (!this.ffmpeg.running) return this.ffmpeg.exited;
    // Let ffmpeg read what is still queued in its sockets before it sees the BYEs.
    await new Promise((r) => setTimeout(r, 50));
    this.#sendBye();
    const retry = setTimeout(() => this.#sendBye(), 300);
    const exit = await this.ffmpeg.stop({ quitMs: 2000, termMs: 5000 });
    clearTimeout(retry);
    return exit;
  }

  #sendBye(): void {
    const bye = rtcpBye();
    for (const p of this.#trackPorts()) this.#sender.sendNow(bye, p + 1);
  }

  #trackPorts(): number[] {
    return [this.layout.video?.port, this.layout.audio?.port].filter((p): p is number => p !== undefined);
  }

  async #waitBound(timeoutMs: number): Promise<void> {
    const ports = this.#trackPorts();
    const pid = this.ffmpeg.pid;
    const inspect = pid !== undefined && (await canInspectSockets());
    const start = Date.now();
    const deadline = start + timeoutMs;
    for (;;) {
      const exit = this.ffmpeg.exitInfo;
      if (exit) throw new FfmpegStartError(`ffmpeg exited before listening: ${describeExit(exit)}`, exit);
      // Without /proc (not Linux) ffmpeg gets a fixed time to open its input.
      if (inspect ? await processHasBound(pid, ports) : Date.now() - start > FALLBACK_BIND_WAIT_MS) return;
      if (Date.now() > deadline) {
        this.ffmpeg.kill('SIGKILL');
        const e = await this.ffmpeg.exited;
        throw new FfmpegStartError(`ffmpeg did not bind its RTP ports within ${timeoutMs} ms`, e);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #attach(): void {
    const rr = rtcpKeepalive();
    this.#keepalive = setInterval(() => {
      for (const p of this.#trackPorts()) this.#sender.sendNow(rr, p + 1);
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
    this.#attached = true;
    this.#stream.addSink(this);
  }

  #detach(): void {
    if (this.#attached) {
      this.#attached = false;
      this.#stream.removeSink(this.id);
    }
  }

  #cleanup(): void {
    if (this.#cleaned) return;
    this.#cleaned = true;
    this.#detach();
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.#sender.close();
    releasePorts(this.#ports);
    void rm(this.#dir, { recursive: true, force: true }).catch((err: Error) => this.#log.debug(`rm ${this.#dir}: ${err.message}`));
  }
}
