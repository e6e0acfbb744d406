/**
 * A manually advanced {@link Clock} for tests: nothing fires until {@link FakeClock.advance}
 * moves time forward, and then timers fire in due order (ties in scheduling order).
 */
import type { Clock, ClockTimer } from './Clock.js';

interface Scheduled {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** Deterministic clock; start time is 0. */
export class FakeClock implements Clock {
  #now = 0;
  #nextId = 1;
  #timers: Scheduled[] = [];

  /** Current fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Number of timers still scheduled. */
  get pending(): number {
    return this.#timers.length;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = this.#nextId++;
    this.#timers.push({ id, due: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(timer: ClockTimer): void {
    this.#timers = this.#timers.filter((t) => t.id !== timer);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers
   * scheduled by those callbacks), each at its own due time.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: Scheduled | undefined;
      for (const t of this.#timers) {
        if (t.due <= end && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      }
      if (next === undefined) break;
      const fired = next;
      this.#timers = this.#timers.filter((t) => t !== fired);
      this.#now = fired.due;
      fired.fn();
    }
    this.#now = end;
  }

  /** Time until the next timer is due, or undefined when none is scheduled. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers) if (min === undefined || t.due < min) min = t.due;
    return min === undefined ? undefined : min - this.#now;
  }
}
