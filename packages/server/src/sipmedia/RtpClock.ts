/**
 * Time source for RTP sessions. Injectable so tests can drive inactivity, latching and RTCP
 * timers without waiting for wall-clock seconds.
 */

/** Milliseconds and repeating timers. `now()` must be monotonic. */
export interface RtpClock {
  now(): number;
  /** Calls `fn` every `ms` milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

/** The real clock: performance.now() and unref'd intervals (a session must not keep Node alive). */
export const systemClock: RtpClock = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};
