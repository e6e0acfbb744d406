/**
 * Real-time scheduler for clip packets, shared by the demo stream (DemoSource) and anything
 * else that replays a clip (e.g. a SIP demo callee sending it over UDP).
 */
import type { Clip, ClipPacket } from './ClipFormat.js';
import { trackDurationTs } from './ClipFormat.js';

/**
 * Receives each packet when its time has come. The packet's RTP timestamp is
 * `record.timestamp + loopTimestampOffset` (mod 2^32); the offset grows by the loop length
 * in the track clock on every loop (and by the stall length after a stall), so timestamps
 * stay continuous and in step with wall-clock time.
 */
export type ClipPacketHandler = (trackIndex: number, record: ClipPacket, loopTimestampOffset: number) => void;

export interface ClipPacerOptions {
  /** Track indices to emit; default all. */
  readonly tracks?: readonly number[];
  /** Timer period. 5 ms keeps video packets of one frame close to their 40 ms slot. */
  readonly tickMs?: number;
  /** Lateness beyond which the schedule jumps forward instead of catching up in a burst. */
  readonly maxLatenessMs?: number;
  /** Monotonic clock in ms; tests inject a fake one. */
  readonly now?: () => number;
  /** Called when the handler throws; the pacer keeps going either way. */
  readonly onError?: (err: unknown) => void;
}

/** A runaway handler or a zero-length loop must not pin the event loop. */
const MAX_PACKETS_PER_PUMP = 10_000;

/**
 * Emits a clip's packets at their wall-clock times, looping forever.
 *
 * Times are computed from a fixed anchor (loop start) rather than from the previous tick, so
 * timer jitter never accumulates into drift. After a stall longer than maxLatenessMs (event
 * loop blocked, VM paused) the anchor and the timestamp offsets move forward by the stall:
 * the receiver sees a gap, not a burst. No packet is dropped, because a clip cannot produce
 * a keyframe on demand and a skipped video packet would corrupt the picture until the next IDR.
 */
export class ClipPacer {
  readonly #clip: Clip;
  readonly #onPacket: ClipPacketHandler;
  readonly #schedule: number[];
  readonly #timeMs: number[];
  readonly #offsets: number[];
  readonly #durationTs: number[];
  readonly #tickMs: number;
  readonly #maxLatenessMs: number;
  readonly #now: () => number;
  readonly #onError: ((err: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #anchor = 0;
  #idx = 0;
  #started = false;
  #loops = 0;
  #stalls = 0;
  #errors = 0;

  constructor(clip: Clip, onPacket: ClipPacketHandler, options: ClipPacerOptions = {}) {
    this.#clip = clip;
    this.#onPacket = onPacket;
    const selected = new Set(options.tracks ?? clip.tracks.map((_, i) => i));
    this.#schedule = [];
    clip.packets.forEach((p, i) => {
      if (selected.has(p.track)) this.#schedule.push(i);
    });
    this.#timeMs = this.#schedule.map((i) => {
      const p = clip.packets[i]!;
      return (p.timestamp * 1000) / clip.tracks[p.track]!.clockRate;
    });
    this.#durationTs = clip.tracks.map((t) => trackDurationTs(clip, t));
    this.#offsets = clip.tracks.map(() => 0);
    this.#tickMs = options.tickMs ?? 5;
    this.#maxLatenessMs = options.maxLatenessMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#onError = options.onError;
  }

  /** Completed loops so far. */
  get loops(): number {
    return this.#loops;
  }
  /** How many times the schedule jumped forward after a stall. */
  get stalls(): number {
    return this.#stalls;
  }
  /** Handler exceptions caught so far. */
  get errors(): number {
    return this.#errors;
  }
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Anchors the schedule at the current time (first packet goes out now) and starts the timer. */
  start(): void {
    if (this.#timer) return;
    this.anchor();
    this.#timer = setInterval(() => this.pump(), this.#tickMs);
    // The pacer feeds whatever keeps the process alive (sockets, server); it must not itself.
    this.#timer.unref();
    this.pump();
  }

  /** Stops the timer. A later start() continues at the same clip position with a gap in time. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Anchors the schedule without a timer, for callers that drive pump() themselves. Keeps the
   * clip position and the timestamp offsets, so a restart after stop() stays continuous.
   */
  anchor(now: number = this.#now()): void {
    if (!this.#started) {
      this.#started = true;
      this.#anchor = now - (this.#timeMs[this.#idx] ?? 0);
      return;
    }
    const due = this.#anchor + (this.#timeMs[this.#idx] ?? 0);
    if (now > due) this.#skip(now - due);
  }

  /** Emits every packet whose time has come; returns how many. */
  pump(now: number = this.#now()): number {
    if (!this.#started || this.#schedule.length === 0) return 0;
    let emitted = 0;
    while (emitted < MAX_PACKETS_PER_PUMP) {
      const due = this.#anchor + this.#timeMs[this.#idx]!;
      if (due > now) break;
      if (now - due > this.#maxLatenessMs) {
        this.#skip(now - due);
        continue;
      }
      const packet = this.#clip.packets[this.#schedule[this.#idx]!]!;
      try {
        this.#onPacket(packet.track, packet, this.#offsets[packet.track]!);
      } catch (err) {
        this.#errors++;
        this.#onError?.(err);
      }
      emitted++;
      if (++this.#idx === this.#schedule.length) {
        this.#idx = 0;
        this.#loops++;
        this.#anchor += this.#clip.durationMs;
        this.#offsets.forEach((o, t) => {
          this.#offsets[t] = (o + this.#durationTs[t]!) % 2 ** 32;
        });
      }
    }
    return emitted;
  }

  /**
   * Restarts playback at the latest keyframe at or before the current position, due now, with
   * timestamps that keep increasing: a clip source's way to honour a keyframe request (the
   * last seconds of the clip replay). Returns false when the clip has no keyframe before.
   */
  seekToLatestKeyframe(now: number = this.#now()): boolean {
    if (!this.#started) return false;
    let key = -1;
    for (let i = this.#idx - 1; i >= 0; i--) {
      if (this.#clip.packets[this.#schedule[i]!]!.keyframe) {
        key = i;
        break;
      }
    }
    if (key < 0) return false;
    // One frame (40 ms) more than the distance keeps the replayed timestamps above the last sent.
    const deltaMs = this.#timeMs[this.#idx - 1]! - this.#timeMs[key]! + 40;
    this.#clip.tracks.forEach((t, i) => {
      this.#offsets[i] = (this.#offsets[i]! + Math.round((deltaMs * t.clockRate) / 1000)) % 2 ** 32;
    });
    this.#idx = key;
    this.#anchor = now - this.#timeMs[key]!;
    return true;
  }

  /** Moves the schedule forward by `ms` so the pending packet is due now. */
  #skip(ms: number): void {
    this.#stalls++;
    this.#anchor += ms;
    this.#clip.tracks.forEach((t, i) => {
      this.#offsets[i] = (this.#offsets[i]! + Math.round((ms * t.clockRate) / 1000)) % 2 ** 32;
    });
  }
}
