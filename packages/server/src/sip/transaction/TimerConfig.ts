/**
 * RFC 3261 §17 / Table 4 timer values. Only T1, T2, T4 and timer D are configurable; the others
 * derive from them exactly as the RFC prescribes (B = F = H = J = L = M = 64·T1, I = K = T4).
 */

/** Base timer values in milliseconds. */
export interface TimerConfig {
  /** RTT estimate; retransmission intervals start here (default 500 ms). */
  readonly t1: number;
  /** Cap for non-INVITE request and INVITE response retransmission intervals (default 4 s). */
  readonly t2: number;
  /** Maximum time a message stays in the network (default 5 s). */
  readonly t4: number;
  /** Timer D over unreliable transports: wait for response retransmissions (at least 32 s). */
  readonly d: number;
  /** Delay before an INVITE server transaction sends 100 Trying on its own (RFC 3261 §17.2.1: 200 ms). */
  readonly trying: number;
}

/** RFC 3261 defaults. */
export const DEFAULT_TIMERS: TimerConfig = { t1: 500, t2: 4000, t4: 5000, d: 32000, trying: 200 };

/** Merges partial overrides into the defaults. */
export function timerConfig(overrides: Partial<TimerConfig> = {}): TimerConfig {
  return { ...DEFAULT_TIMERS, ...overrides };
}
