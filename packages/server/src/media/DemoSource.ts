/**
 * The demo publisher: plays a pre-packetized clip (assets/demo.sclip) into a stream as if a
 * SIP peer were sending it, so sipcast can be tried and tested without a phone or ffmpeg.
 */
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { findSps, parseSps } from '../rtp/h264.js';
import { RTP_HEADER_SIZE, writeRtpHeader } from '../rtp/RtpHeader.js';
import type { ClipCodec, Clip, ClipPacket } from './clip/ClipFormat.js';
import { ClipPacer } from './clip/ClipPacer.js';
import type { AudioCodec, MediaDescription, MediaKind, StreamPublisher } from './MediaTypes.js';

export { ClipPacer } from './clip/ClipPacer.js';
export type { ClipPacketHandler, ClipPacerOptions } from './clip/ClipPacer.js';

/** The part of the stream registry's LiveStream a publisher uses. */
export interface RtpPublishTarget {
  attachPublisher(publisher: StreamPublisher, media: MediaDescription): void;
  /** Takes ownership of `packet`: a complete RTP packet the caller never touches again. */
  pushRtp(kind: MediaKind, packet: Buffer): void;
  end(info: string): void;
}

export interface DemoSourceOptions {
  /** Which of the clip's audio tracks to send; default opus. */
  readonly audioCodec?: AudioCodec;
  /** Send the video track; default true. */
  readonly video?: boolean;
  /** Pacer timer period in ms (default 5). */
  readonly tickMs?: number;
}

/** Payload types the demo sends (the stream rewrites them per viewer anyway). */
export const DEMO_PAYLOAD_TYPES: Readonly<Record<ClipCodec, number>> = { H264: 96, opus: 111, PCMU: 0, PCMA: 8 };

/** Where the committed demo clip lives; the same relative path works from src/ and dist/. */
export function defaultDemoClipPath(): string {
  return fileURLToPath(new URL('../../assets/demo.sclip', import.meta.url));
}

interface TrackState {
  readonly kind: MediaKind;
  readonly payloadType: number;
  readonly ssrc: number;
  /** Random initial timestamp (RFC 3550 §5.1) so streams are not trivially predictable. */
  readonly tsBase: number;
  seq: number;
  packets: number;
}

/**
 * Publishes a clip in real time, looping forever with continuous sequence numbers and
 * timestamps. It cannot make keyframes: the clip has an IDR every 10 s, and viewers rely on
 * the stream's GOP cache to start immediately.
 */
export class DemoSource implements StreamPublisher {
  readonly canProduceKeyframe = false;
  /** What start() announces to the stream. */
  readonly media: MediaDescription;
  readonly #clip: Clip;
  readonly #tracks: Array<TrackState | undefined>;
  readonly #tickMs: number | undefined;
  #pacer: ClipPacer | undefined;
  #target: RtpPublishTarget | undefined;
  #keyframeRequests = 0;

  /** @throws Error when the clip lacks the requested audio codec or video. */
  constructor(clip: Clip, options: DemoSourceOptions = {}) {
    const audioCodec = options.audioCodec ?? 'opus';
    const wantVideo = options.video ?? true;
    this.#clip = clip;
    this.#tickMs = options.tickMs;
    const audioIdx = clip.tracks.findIndex((t) => t.kind === 'audio' && t.codec === audioCodec);
    if (audioIdx < 0) throw new Error(`clip has no ${audioCodec} track`);
    const videoIdx = wantVideo ? clip.tracks.findIndex((t) => t.kind === 'video') : -1;
    if (wantVideo && videoIdx < 0) throw new Error('clip has no video track');

    const ssrcs = new Set<number>();
    const state = (kind: MediaKind, codec: ClipCodec): TrackState => {
      let ssrc: number;
      do ssrc = randomInt(1, 2 ** 32 - 1);
      while (ssrcs.has(ssrc));
      ssrcs.add(ssrc);
      return { kind, payloadType: DEMO_PAYLOAD_TYPES[codec], ssrc, tsBase: randomInt(0, 2 ** 32 - 1), seq: randomInt(0, 0x10000), packets: 0 };
    };
    this.#tracks = clip.tracks.map(() => undefined);
    const audio = clip.tracks[audioIdx]!;
    this.#tracks[audioIdx] = state('audio', audio.codec);
    let media: MediaDescription = {
      audio: { kind: 'audio', codec: audioCodec, clockRate: audio.clockRate, channels: audio.channels },
    };
    if (videoIdx >= 0) {
      this.#tracks[videoIdx] = state('video', 'H264');
      const profileLevelId = clipProfileLevelId(clip, videoIdx);
      media = { ...media, video: { kind: 'video', codec: 'H264', clockRate: 90000, ...(profileLevelId ? { profileLevelId } : {}) } };
    }
    this.media = media;
  }

  /** Keyframe requests received (and ignored: the clip's IDRs come every 10 s regardless). */
  get keyframeRequests(): number {
    return this.#keyframeRequests;
  }

  /** RTP packets pushed so far per kind. */
  get packetsSent(): { audio: number; video: number } {
    const sum = (kind: MediaKind): number => this.#tracks.reduce((s, t) => s + (t?.kind === kind ? t.packets : 0), 0);
    return { audio: sum('audio'), video: sum('video') };
  }

  /** SSRC used for each kind (fixed for the source's lifetime). */
  ssrcOf(kind: MediaKind): number | undefined {
    return this.#tracks.find((t) => t?.kind === kind)?.ssrc;
  }

  requestKeyframe(): void {
    this.#keyframeRequests++;
  }

  /**
   * Attaches to the stream and starts sending in real time. Calling start() again after
   * stop() resumes the same sequence and timestamp space.
   * @throws Error when already started.
   */
  start(target: RtpPublishTarget): void {
    if (this.#pacer?.running) throw new Error('DemoSource already started');
    if (this.#target !== target) {
      target.attachPublisher(this, this.media);
      this.#target = target;
    }
    this.#pacer ??= new ClipPacer(this.#clip, (i, rec, off) => this.#send(i, rec, off), {
      tracks: this.#tracks.flatMap((t, i) => (t ? [i] : [])),
      ...(this.#tickMs !== undefined ? { tickMs: this.#tickMs } : {}),
    });
    this.#pacer.start();
  }

  /** Stops sending. Ending the stream is the owner's decision, so target.end() is not called. */
  stop(): void {
    this.#pacer?.stop();
  }

  #send(trackIndex: number, record: ClipPacket, loopTimestampOffset: number): void {
    const t = this.#tracks[trackIndex];
    const target = this.#target;
    if (!t || !target) return;
    // A fresh buffer per packet: the stream keeps it (GOP cache, NACK history) and owns it.
    const packet = Buffer.alloc(RTP_HEADER_SIZE + record.payload.length);
    writeRtpHeader(packet, {
      payloadType: t.payloadType,
      marker: record.marker,
      seq: t.seq,
      timestamp: t.tsBase + record.timestamp + loopTimestampOffset,
      ssrc: t.ssrc,
    });
    record.payload.copy(packet, RTP_HEADER_SIZE);
    t.seq = (t.seq + 1) & 0xffff;
    t.packets++;
    target.pushRtp(t.kind, packet);
  }
}

/** profile-level-id from the first SPS in the video track, so the SDP matches the bitstream. */
function clipProfileLevelId(clip: Clip, videoIdx: number): string | undefined {
  for (const p of clip.packets) {
    if (p.track !== videoIdx) continue;
    const sps = findSps(p.payload, 0, p.payload.length);
    if (!sps) continue;
    try {
      return parseSps(sps).profileLevelId;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
