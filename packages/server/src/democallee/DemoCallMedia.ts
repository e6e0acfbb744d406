import { randomInt } from 'node:crypto';
import type { Clip } from '../media/clip/ClipFormat.js';
import { ClipPacer } from '../media/clip/ClipPacer.js';
import { parseRtcpFeedback } from '../rtp/rtcp.js';
import { writeRtpHeader } from '../rtp/RtpHeader.js';
import { bindPortPair, type BoundPortPair } from '../sipmedia/RtpPortAllocator.js';
import type { DemoPlan, DemoTrackPlan } from './demoAnswer.js';

/** Keyframe requests closer than this are merged (a softphone makes one IDR per request). */
const KEYFRAME_MIN_INTERVAL_MS = 500;

interface Sender {
  readonly plan: DemoTrackPlan;
  readonly pair: BoundPortPair;
  readonly ssrc: number;
  readonly tsBase: number;
  seq: number;
}

/**
 * The demo callee's media for one call: sends the clip's H.264 and the negotiated audio track as
 * real RTP over UDP and turns RTCP PLI/FIR (or SIP INFO, via requestKeyframe) into a jump back to
 * the clip's latest keyframe, like a softphone's encoder would make a new IDR.
 */
export class DemoCallMedia {
  readonly #pacer: ClipPacer;
  readonly #senders = new Map<number, Sender>();
  readonly #pairs: BoundPortPair[];
  readonly #ports: { audio?: number; video?: number };
  #lastKeyframeMs = -Infinity;
  #closed = false;
  keyframesHonoured = 0;
  packetsSent = 0;

  private constructor(clip: Clip, senders: Map<number, Sender>, pairs: BoundPortPair[], ports: { audio?: number; video?: number }) {
    this.#senders = senders;
    this.#pairs = pairs;
    this.#ports = ports;
    this.#pacer = new ClipPacer(clip, (track, rec, off) => this.#send(track, rec.payload, rec.marker, rec.timestamp + off), {
      tracks: [...senders.keys()],
    });
    for (const s of senders.values()) {
      s.pair.rtcp.on('message', (msg) => {
        const fb = parseRtcpFeedback(msg);
        if (fb && (fb.pli || fb.fir || fb.nackSeqs.length > 0)) this.requestKeyframe();
      });
      // The caller's own RTP (rtp_session_init_always, its audio) is read and dropped.
      s.pair.rtp.on('message', () => undefined);
    }
  }

  /** Binds ports for the planned kinds; `start()` begins sending. */
  static async open(clip: Clip, plan: DemoPlan, bindAddress: string, portMin: number, portMax: number): Promise<DemoCallMedia> {
    const senders = new Map<number, Sender>();
    const pairs: BoundPortPair[] = [];
    const ports: { audio?: number; video?: number } = {};
    try {
      for (const kind of ['audio', 'video'] as const) {
        const p = plan[kind];
        if (!p) continue;
        const track = clip.tracks.findIndex((t) => t.kind === kind && (kind === 'video' || t.codec === plan.audio?.codec));
        if (track < 0) continue;
        const pair = await bindPortPair(bindAddress, portMin, portMax);
        pairs.push(pair);
        ports[kind] = pair.rtpPort;
        senders.set(track, { plan: p, pair, ssrc: randomInt(1, 0xffffffff), tsBase: randomInt(0, 0x7fffffff), seq: randomInt(0, 0xffff) });
      }
    } catch (err) {
      for (const p of pairs) void p.release();
      throw err;
    }
    return new DemoCallMedia(clip, senders, pairs, ports);
  }

  /** Our RTP port per kind, for the SDP answer. */
  get ports(): { audio?: number; video?: number } {
    return this.#ports;
  }

  /** Starts sending (idempotent). */
  start(): void {
    if (!this.#closed) this.#pacer.start();
  }

  requestKeyframe(): void {
    const now = performance.now();
    if (now - this.#lastKeyframeMs < KEYFRAME_MIN_INTERVAL_MS) return;
    this.#lastKeyframeMs = now;
    if (this.#pacer.seekToLatestKeyframe()) this.keyframesHonoured++;
  }

  close(): void {
    this.#closed = true;
    this.#pacer.stop();
    for (const p of this.#pairs) void p.release();
  }

  #send(track: number, payload: Buffer, marker: boolean, ts: number): void {
    const s = this.#senders.get(track);
    if (!s) return;
    const buf = Buffer.allocUnsafe(12 + payload.length);
    writeRtpHeader(buf, { payloadType: s.plan.payloadType, marker, seq: s.seq, timestamp: (s.tsBase + ts) >>> 0, ssrc: s.ssrc });
    s.seq = (s.seq + 1) & 0xffff;
    payload.copy(buf, 12);
    s.pair.rtp.send(buf, s.plan.port, s.plan.address);
    this.packetsSent++;
  }
}
