import { EventEmitter } from 'eventemitter3';

/** eventemitter3 with a typed event map: `{ name: [arg1, arg2] }`. */
export class TypedEmitter<Events extends Record<string, unknown[]>> {
  readonly #ee = new EventEmitter();

  on<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    this.#ee.on(event, fn as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    this.#ee.once(event, fn as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof Events & string>(event: K, fn: (...args: Events[K]) => void): this {
    this.#ee.off(event, fn as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    this.#ee.emit(event, ...args);
  }

  protected removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }
}
