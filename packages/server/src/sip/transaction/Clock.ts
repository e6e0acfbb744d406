/**
 * The time source of the SIP stack. Every transaction and registration timer goes through a
 * {@link Clock} so that unit tests can run RFC 3261 timers (32 s, 64·T1) in fake time.
 */

/** Opaque handle of a scheduled callback. */
export type ClockTimer = object | number;

/** `setTimeout`/`clearTimeout` wrapper plus a monotonic millisecond reading. */
export interface Clock {
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer; unknown or already fired handles are ignored. */
  clearTimeout(timer: ClockTimer): void;
  /** Milliseconds on a monotonic scale (only differences are meaningful). */
  now(): number;
}

/** The real clock: Node's timers and `performance.now()`. */
export const systemClock: Clock = {
  setTimeout(fn: () => void, ms: number): ClockTimer {
    return setTimeout(fn, ms);
  },
  clearTimeout(timer: ClockTimer): void {
    // Only handles we created reach here; anything else is ignored by Node.
    clearTimeout(timer as ReturnType<typeof setTimeout>);
  },
  now(): number {
    return performance.now();
  },
};
