import { rtpSeq, rtpSsrc, rtpTimestamp } from './RtpHeader.js';

/** A jump this large in sequence numbers means the source restarted (re-INVITE, hold). */
const SEQ_JUMP = 3000;

/**
 * Rewrites one track's SSRC, sequence numbers and timestamps in place so that viewers see
 * one continuous RTP stream even when the source changes SSRC or jumps (RFC 3550 §8.2;
 * SRTP replay windows in browsers reject sequence numbers that go backwards).
 */
export class RtpContinuity {
  readonly ssrc: number;
  readonly #clockRate: number;
  #inSsrc = -1;
  #lastInSeq = 0;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastOutSeq = -1;
  #lastOutTs = 0;
  #lastArrivalMs = 0;
  packetCount = 0;
  octetCount = 0;

  constructor(ssrc: number, clockRate: number) {
    this.ssrc = ssrc >>> 0;
    this.#clockRate = clockRate;
  }

  /** Rewrites the header of `buf`; `nowMs` is the arrival time (monotonic). */
  rewrite(buf: Buffer, payloadBytes: number, nowMs: number): void {
    const seq = rtpSeq(buf);
    const ts = rtpTimestamp(buf);
    const ssrc = rtpSsrc(buf);
    if (ssrc !== this.#inSsrc || this.#isJump(seq)) this.#reanchor(ssrc, seq, ts, nowMs);
    this.#lastInSeq = seq;
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTs = (ts + this.#tsOffset) >>> 0;
    buf.writeUInt32BE(this.ssrc, 8);
    buf.writeUInt16BE(outSeq, 2);
    buf.writeUInt32BE(outTs, 4);
    this.#lastOutSeq = outSeq;
    this.#lastOutTs = outTs;
    this.#lastArrivalMs = nowMs;
    this.packetCount++;
    this.octetCount += payloadBytes;
  }

  /** The RTP timestamp that corresponds to `nowMs`, for sender reports. */
  timestampAt(nowMs: number): number {
    return (this.#lastOutTs + Math.round(((nowMs - this.#lastArrivalMs) * this.#clockRate) / 1000)) >>> 0;
  }

  get started(): boolean {
    return this.#lastOutSeq >= 0;
  }

  get lastOutSeq(): number {
    return this.#lastOutSeq;
  }

  #isJump(seq: number): boolean {
    const delta = (seq - this.#lastInSeq) & 0xffff;
    return delta > SEQ_JUMP && delta < 0x10000 - SEQ_JUMP;
  }

  #reanchor(ssrc: number, seq: number, ts: number, nowMs: number): void {
    this.#inSsrc = ssrc;
    if (this.#lastOutSeq < 0) {
      // First packet: keep the source's numbering, only the SSRC changes.
      this.#seqOffset = 0;
      this.#tsOffset = 0;
      return;
    }
    const elapsedTicks = Math.max(1, Math.round(((nowMs - this.#lastArrivalMs) * this.#clockRate) / 1000));
    this.#seqOffset = (this.#lastOutSeq + 1 - seq) & 0xffff;
    this.#tsOffset = (this.#lastOutTs + elapsedTicks - ts) >>> 0;
  }
}
