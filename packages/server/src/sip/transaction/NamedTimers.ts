/**
 * The named timers (A, B, D, E, ...) of one transaction on an injected {@link Clock}, so that
 * a state change can stop exactly the timers the RFC says it stops.
 */
import type { Clock, ClockTimer } from './Clock.js';

/** Named one-shot timers; starting a running name restarts it. */
export class NamedTimers {
  readonly #clock: Clock;
  readonly #running = new Map<string, ClockTimer>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** (Re)starts timer `name` to call `fn` after `ms`. */
  start(name: string, ms: number, fn: () => void): void {
    this.stop(name);
    const handle = this.#clock.setTimeout(() => {
      this.#running.delete(name);
      fn();
    }, ms);
    this.#running.set(name, handle);
  }

  /** Stops timer `name` if running. */
  stop(name: string): void {
    const handle = this.#running.get(name);
    if (handle === undefined) return;
    this.#clock.clearTimeout(handle);
    this.#running.delete(name);
  }

  /** True while `name` is scheduled. */
  running(name: string): boolean {
    return this.#running.has(name);
  }

  /** Stops every timer. */
  stopAll(): void {
    for (const handle of this.#running.values()) this.#clock.clearTimeout(handle);
    this.#running.clear();
  }
}
