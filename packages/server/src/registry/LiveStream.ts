import { randomInt, randomUUID } from 'node:crypto';
import type { MediaDescription, MediaKind, StreamPublisher } from '../media/MediaTypes.js';
import { RtpContinuity } from '../rtp/RtpContinuity.js';
import { rtpPayloadEnd, rtpPayloadOffset, rtpTimestamp } from '../rtp/RtpHeader.js';
import { findSps, h264KeyInfo, parseSps } from '../rtp/h264.js';
import { buildSenderReport } from '../rtp/rtcp.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { GopCache } from './GopCache.js';
import { KeyframeRequester } from './KeyframeRequester.js';
import type { MediaSink, StreamEnd } from './MediaSink.js';

/** Stream status as WCS reports it for a published stream. */
export type LiveStreamStatus = 'PENDING' | 'PUBLISHING' | 'UNPUBLISHED' | 'FAILED';

export interface LiveStreamEvents extends Record<string, unknown[]> {
  published: [];
  /** A sink threw (first time per sink); the others keep receiving. */
  sinkError: [sinkId: string, err: unknown];
  resize: [width: number, height: number];
  ended: [end: StreamEnd];
}

export interface LiveStreamCounters {
  packetsIn: number;
  bytesIn: number;
  droppedMalformed: number;
  droppedNoTrack: number;
  keyframes: number;
  keyframeRequests: number;
  sinkErrors: number;
}

interface SinkGroup {
  readonly pt: number;
  readonly sinks: MediaSink[];
}

const SR_INTERVAL_MS = 1000;
/**
 * A keyframe-capable source's cached group younger than this is replayed to a new viewer instead
 * of asking for another keyframe: the burst is short and the picture comes at once.
 */
const FRESH_KEYFRAME_MS = 1500;
/** Packets of a cached keyframe group sent per event-loop turn (about 75 KB). */
const REPLAY_CHUNK_PACKETS = 64;

/**
 * A named live stream: one publisher feeds RTP, any number of sinks receive it.
 * Each packet is rewritten once (SSRC, sequence, timestamp) and the same buffer goes to every
 * sink; only the payload type byte is patched per group of sinks that negotiated the same one.
 * Knows RTP and H.264 framing, nothing of SIP or WebRTC.
 */
export class LiveStream extends TypedEmitter<LiveStreamEvents> {
  readonly name: string;
  readonly mediaSessionId = randomUUID();
  readonly createdAt = Date.now();
  /** Who created the stream (a SIP call id, "demo"): for REST answers, never interpreted here. */
  readonly owner: string;
  #status: LiveStreamStatus = 'PENDING';
  #media: MediaDescription = {};
  #publisher: StreamPublisher | undefined;
  readonly #out: Record<MediaKind, RtpContinuity>;
  readonly #groups: Record<MediaKind, SinkGroup[]> = { audio: [], video: [] };
  readonly #sinks = new Map<string, MediaSink>();
  /** Sinks waiting for the next keyframe before they get video. */
  #waitingVideo: MediaSink[] = [];
  #lastKeyTs = -1;
  #sps: Buffer | undefined;
  #width = 0;
  #height = 0;
  #gopCache: GopCache | undefined;
  readonly #keyframes: KeyframeRequester;
  #srTimer: NodeJS.Timeout | undefined;
  readonly counters: LiveStreamCounters = {
    packetsIn: 0,
    bytesIn: 0,
    droppedMalformed: 0,
    droppedNoTrack: 0,
    keyframes: 0,
    keyframeRequests: 0,
    sinkErrors: 0,
  };

  constructor(name: string, owner: string) {
    super();
    this.name = name;
    this.owner = owner;
    this.#out = {
      audio: new RtpContinuity(randomInt(1, 0xffffffff), 48000),
      video: new RtpContinuity(randomInt(1, 0xffffffff), 90000),
    };
    this.#keyframes = new KeyframeRequester(() => this.#publisher?.requestKeyframe());
  }

  get status(): LiveStreamStatus {
    return this.#status;
  }
  get media(): MediaDescription {
    return this.#media;
  }
  get width(): number {
    return this.#width;
  }
  get height(): number {
    return this.#height;
  }
  get sinkCount(): number {
    return this.#sinks.size;
  }
  /** The SSRC every sink sees for a kind (declared in SDP answers). */
  ssrcOf(kind: MediaKind): number {
    return this.#out[kind].ssrc;
  }
  get ended(): boolean {
    return this.#status === 'UNPUBLISHED' || this.#status === 'FAILED';
  }

  /** The publisher starts feeding media; sinks may now negotiate against `media`. */
  attachPublisher(publisher: StreamPublisher, media: MediaDescription): void {
    if (this.ended) throw new Error(`stream ${this.name} has ended`);
    this.#publisher = publisher;
    this.#media = media;
    if (media.audio) this.#out.audio = new RtpContinuity(this.#out.audio.ssrc, media.audio.clockRate);
    this.#gopCache = media.video ? new GopCache() : undefined;
    this.#status = 'PUBLISHING';
    this.#srTimer ??= setInterval(() => this.#sendSenderReports(), SR_INTERVAL_MS).unref();
    this.emit('published');
  }

  /**
   * Feeds one RTP packet. The stream takes ownership of `packet` (it is rewritten in place and
   * may be cached): the caller must not reuse it.
   */
  pushRtp(kind: MediaKind, packet: Buffer): void {
    const off = rtpPayloadOffset(packet);
    if (off < 0) {
      this.counters.droppedMalformed++;
      return;
    }
    if (!this.#media[kind]) {
      this.counters.droppedNoTrack++;
      return;
    }
    const end = rtpPayloadEnd(packet);
    this.counters.packetsIn++;
    this.counters.bytesIn += packet.length;
    this.#out[kind].rewrite(packet, end - off, performance.now());
    if (kind === 'video') {
      this.#inspectVideo(packet, off, end);
      // Viewers still receiving a paced replay get live video after it, in order.
      for (const r of this.#replays) r.queue.push(Buffer.from(packet));
    }
    const groups = this.#groups[kind];
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      packet[1] = (packet[1]! & 0x80) | group.pt;
      const sinks = group.sinks;
      for (let i = 0; i < sinks.length; i++) {
        try {
          sinks[i]!.sendRtp(kind, packet);
        } catch (err) {
          this.#sinkFailed(sinks[i]!, err);
        }
      }
    }
  }

  /**
   * Starts sending to a sink. Audio flows at once; video starts at a keyframe: the cached
   * keyframe group when the source cannot make one on demand, else the next one (requested now).
   */
  addSink(sink: MediaSink): void {
    if (this.ended) throw new Error(`stream ${this.name} has ended`);
    if (this.#sinks.has(sink.id)) return;
    this.#sinks.set(sink.id, sink);
    const audioPt = sink.payloadTypes.audio;
    if (audioPt !== undefined && this.#media.audio) this.#join('audio', audioPt, sink);
    if (sink.payloadTypes.video === undefined || !this.#media.video) return;
    // Join from the cached keyframe group when the source cannot make a keyframe, or when its
    // last one is fresh (a viewer's keyframe request, sent when it was answered, already came).
    const replayable = this.#gopCache && (!this.#publisher?.canProduceKeyframe || this.#gopCache.ageMs() <= FRESH_KEYFRAME_MS);
    const replay = replayable ? this.#gopCache!.replayPackets(sink.payloadTypes.video) : [];
    if (replay.length > 0) {
      this.#startReplay(sink, sink.payloadTypes.video, replay);
    } else {
      this.#waitingVideo.push(sink);
      this.requestKeyframe();
    }
    if (this.#width > 0) sink.onResize(this.#width, this.#height);
  }

  removeSink(sinkId: string): void {
    const sink = this.#sinks.get(sinkId);
    if (!sink) return;
    this.#sinks.delete(sinkId);
    this.#waitingVideo = this.#waitingVideo.filter((s) => s !== sink);
    for (const kind of ['audio', 'video'] as const) {
      const groups = this.#groups[kind];
      for (const group of groups) {
        const i = group.sinks.indexOf(sink);
        if (i >= 0) group.sinks.splice(i, 1);
      }
      this.#groups[kind] = groups.filter((g) => g.sinks.length > 0);
    }
  }

  /** A sink (a viewer's PLI/FIR, a recorder starting) needs a keyframe. */
  requestKeyframe(): void {
    if (!this.#publisher?.canProduceKeyframe) return;
    this.counters.keyframeRequests++;
    this.#keyframes.request();
  }

  /** Ends the stream: every sink is told and removed. */
  end(info: string, failed = false): void {
    if (this.ended) return;
    this.#status = failed ? 'FAILED' : 'UNPUBLISHED';
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.#keyframes.close();
    this.#gopCache?.clear();
    const sinks = [...this.#sinks.values()];
    this.#sinks.clear();
    this.#groups.audio = [];
    this.#groups.video = [];
    this.#waitingVideo = [];
    this.#replays.length = 0;
    const end: StreamEnd = { info, failed };
    for (const sink of sinks) {
      try {
        sink.onStreamEnd(end);
      } catch {
        this.counters.sinkErrors++;
      }
    }
    this.emit('ended', end);
    this.removeAllListeners();
  }

  readonly #failedSinks = new WeakSet<MediaSink>();

  #sinkFailed(sink: MediaSink, err: unknown): void {
    this.counters.sinkErrors++;
    if (this.#failedSinks.has(sink)) return;
    this.#failedSinks.add(sink);
    this.emit('sinkError', sink.id, err);
  }

  readonly #replays: { sink: MediaSink; pt: number; queue: Buffer[] }[] = [];

  /**
   * Sends a cached keyframe group in chunks, one event-loop turn apart: a burst of hundreds of
   * packets at once overflows UDP socket buffers (the viewer then loses packets NACK cannot
   * recover). Live video arriving meanwhile is queued behind the replay; then the sink joins.
   */
  #startReplay(sink: MediaSink, pt: number, packets: Buffer[]): void {
    const replay = { sink, pt, queue: packets };
    this.#replays.push(replay);
    const step = (): void => {
      if (this.#sinks.get(sink.id) !== sink) return this.#endReplay(replay);
      const chunk = replay.queue.splice(0, REPLAY_CHUNK_PACKETS);
      for (const p of chunk) {
        p[1] = (p[1]! & 0x80) | pt;
        try {
          sink.sendRtp('video', p);
        } catch (err) {
          this.#sinkFailed(sink, err);
        }
      }
      if (replay.queue.length > 0) {
        setImmediate(step);
        return;
      }
      this.#endReplay(replay);
      this.#join('video', pt, sink);
    };
    step();
  }

  #endReplay(replay: { sink: MediaSink }): void {
    const i = this.#replays.findIndex((r) => r === replay);
    if (i >= 0) this.#replays.splice(i, 1);
  }

  #join(kind: MediaKind, pt: number, sink: MediaSink): void {
    const groups = this.#groups[kind];
    let group = groups.find((g) => g.pt === pt);
    if (!group) {
      group = { pt, sinks: [] };
      groups.push(group);
    }
    group.sinks.push(sink);
  }

  #inspectVideo(packet: Buffer, off: number, end: number): void {
    const key = h264KeyInfo(packet, off, end);
    if (key === 0) {
      this.#gopCache?.add(packet);
      return;
    }
    const ts = rtpTimestamp(packet);
    if (ts !== this.#lastKeyTs) {
      this.#lastKeyTs = ts;
      this.counters.keyframes++;
      this.#keyframes.keyframeArrived();
      this.#gopCache?.startGroup();
      this.#releaseWaitingVideo();
    }
    this.#gopCache?.add(packet);
    if (key === 1) this.#checkSps(packet, off, end);
  }

  #releaseWaitingVideo(): void {
    if (this.#waitingVideo.length === 0) return;
    for (const sink of this.#waitingVideo) {
      const pt = sink.payloadTypes.video;
      if (pt !== undefined) this.#join('video', pt, sink);
    }
    this.#waitingVideo = [];
  }

  #checkSps(packet: Buffer, off: number, end: number): void {
    const sps = findSps(packet, off, end);
    if (!sps || (this.#sps && this.#sps.equals(sps))) return;
    this.#sps = Buffer.from(sps);
    let info;
    try {
      info = parseSps(sps);
    } catch {
      return;
    }
    if (info.width === this.#width && info.height === this.#height) return;
    this.#width = info.width;
    this.#height = info.height;
    for (const sink of this.#sinks.values()) {
      try {
        sink.onResize(info.width, info.height);
      } catch {
        this.counters.sinkErrors++;
      }
    }
    this.emit('resize', info.width, info.height);
  }

  #sendSenderReports(): void {
    const nowMs = performance.now();
    const wallMs = performance.timeOrigin + nowMs;
    for (const kind of ['audio', 'video'] as const) {
      const out = this.#out[kind];
      const groups = this.#groups[kind];
      if (!out.started || groups.length === 0) continue;
      const sr = buildSenderReport({
        ssrc: out.ssrc,
        ntpTimeMs: wallMs,
        rtpTimestamp: out.timestampAt(nowMs),
        packetCount: out.packetCount,
        octetCount: out.octetCount,
      });
      for (const group of groups) {
        for (const sink of group.sinks) {
          try {
            sink.sendRtcp(kind, sr);
          } catch {
            this.counters.sinkErrors++;
          }
        }
      }
    }
  }
}
