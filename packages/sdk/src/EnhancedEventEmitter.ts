import EventEmitter from 'eventemitter3';
import { ERROR_INFO } from './constants';

/** A map from event name to the tuple of arguments its listeners receive. */
export type EventMap = { [event: string]: unknown[] };

/** A listener of event `K` of map `E`. */
export type Listener<E extends EventMap, K extends keyof E> = (...args: E[K]) => void;

/**
 * Typed event emitter (in the style of mediasoup-client's `EnhancedEventEmitter`)
 * built on eventemitter3. Any number of listeners per event; a listener that
 * throws is logged and never breaks the emitter's owner.
 *
 * `on()` is deliberately not defined here: {@link Session} and {@link Stream}
 * give it the Flashphoner meaning (one callback per event) through
 * {@link EnhancedEventEmitter.replaceListener}.
 *
 * @typeParam E - the event map.
 */
export class EnhancedEventEmitter<E extends EventMap> {
  private readonly emitter = new EventEmitter();
  private readonly single = new Map<string, Listener<E, keyof E>>();

  /**
   * Adds a listener for `event`. Several listeners may be added.
   * @returns this, for chaining.
   */
  addListener<K extends keyof E & string>(event: K, listener: Listener<E, K>): this {
    this.emitter.addListener(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Adds a listener that is removed after its first call.
   * @returns this, for chaining.
   */
  once<K extends keyof E & string>(event: K, listener: Listener<E, K>): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Removes a listener added with {@link addListener}, {@link once} or `on()`.
   * Without `listener`, removes every listener of `event`.
   * @returns this, for chaining.
   */
  removeListener<K extends keyof E & string>(event: K, listener?: Listener<E, K>): this {
    this.emitter.removeListener(event, listener as ((...args: unknown[]) => void) | undefined);
    return this;
  }

  /** Alias of {@link removeListener}. */
  off<K extends keyof E & string>(event: K, listener?: Listener<E, K>): this {
    return this.removeListener(event, listener);
  }

  /** Removes all listeners, or all listeners of `event`. */
  removeAllListeners<K extends keyof E & string>(event?: K): this {
    this.emitter.removeAllListeners(event);
    if (event === undefined) {
      this.single.clear();
    } else {
      this.single.delete(event);
    }
    return this;
  }

  /** Number of listeners of `event`. */
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  /**
   * Flashphoner `on()` semantics: sets THE callback of `event`, replacing the
   * one a previous call set (listeners added with {@link addListener} stay).
   *
   * @throws TypeError "Event can't be null" without an event.
   * @throws Error "Callback needs to be a valid function" if `callback` is not a function.
   */
  protected replaceListener<K extends keyof E & string>(event: K, callback: Listener<E, K>): void {
    if (!event) {
      throw new TypeError(ERROR_INFO.EVENT_CANT_BE_NULL);
    }
    if (typeof callback !== 'function') {
      throw new Error(ERROR_INFO.CALLBACK_NEEDS_TO_BE_A_VALID_FUNCTION);
    }
    const previous = this.single.get(event);
    if (previous) {
      this.emitter.removeListener(event, previous as (...args: unknown[]) => void);
    }
    this.single.set(event, callback as Listener<E, keyof E>);
    this.emitter.addListener(event, callback as (...args: unknown[]) => void);
  }

  /**
   * Emits `event`. An exception thrown by a listener is caught and reported to
   * {@link onListenerError}, so it can never break the SDK's own state handling
   * (listeners after the throwing one are skipped for this emission).
   * @returns true if the event had listeners.
   */
  protected safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    try {
      return this.emitter.emit(event, ...args);
    } catch (error) {
      this.onListenerError(event, error);
      return true;
    }
  }

  /** Called when a listener throws. Logs to the console by default. */
  protected onListenerError(event: string, error: unknown): void {
    console.error(`sipcast: listener of "${event}" threw`, error);
  }
}
