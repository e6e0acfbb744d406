import { rtpTimestamp, setRtpPayloadType, setRtpTimestamp } from '../rtp/RtpHeader.js';

/** Beyond this a keyframe group is not cached (a source with a very long GOP). */
const MAX_CACHE_BYTES = 6 * 1024 * 1024;
/**
 * RTP clock ticks (90 kHz) between replayed frames: 1 ms. The burst arrives within a few ms,
 * so a spacing close to the arrival spacing keeps the browser's jitter estimate low and the
 * viewer lands on live timing right after the burst (see docs/fast-start.md).
 */
const REPLAY_FRAME_STEP = 90;

/**
 * The video packets since the last keyframe. A new viewer gets them in one burst, frames squeezed
 * in time, so it decodes at once and continues with live packets without lasting extra delay.
 */
export class GopCache {
  #packets: Buffer[] = [];
  #bytes = 0;
  #valid = false;
  #startedAtMs = 0;

  /** A keyframe starts: drop the old group. */
  startGroup(nowMs: number = performance.now()): void {
    this.#packets = [];
    this.#bytes = 0;
    this.#valid = true;
    this.#startedAtMs = nowMs;
  }

  /** Milliseconds since the cached group's keyframe arrived (Infinity when there is none). */
  ageMs(nowMs: number = performance.now()): number {
    return this.#valid && this.#packets.length > 0 ? nowMs - this.#startedAtMs : Infinity;
  }

  add(packet: Buffer): void {
    if (!this.#valid) return;
    this.#bytes += packet.length;
    if (this.#bytes > MAX_CACHE_BYTES) {
      this.clear();
      return;
    }
    this.#packets.push(packet);
  }

  clear(): void {
    this.#packets = [];
    this.#bytes = 0;
    this.#valid = false;
  }

  /** Copies of the cached group with payload type `pt`, timestamps squeezed; empty when there is none. */
  replayPackets(pt: number): Buffer[] {
    const packets = this.#packets;
    if (!this.#valid || packets.length === 0) return [];
    // Frames (distinct timestamps) before the newest one are moved just before it; the
    // newest keeps its timestamp because its remaining packets may still arrive live.
    let frames = 0;
    let prevTs = -1;
    for (const p of packets) {
      const ts = rtpTimestamp(p);
      if (ts !== prevTs) frames++;
      prevTs = ts;
    }
    const lastTs = prevTs;
    let frameIndex = 0;
    prevTs = -1;
    const out: Buffer[] = [];
    for (const p of packets) {
      const ts = rtpTimestamp(p);
      if (ts !== prevTs && prevTs !== -1) frameIndex++;
      prevTs = ts;
      const copy = Buffer.from(p);
      setRtpPayloadType(copy, pt);
      setRtpTimestamp(copy, lastTs - (frames - 1 - frameIndex) * REPLAY_FRAME_STEP);
      out.push(copy);
    }
    return out;
  }
}
