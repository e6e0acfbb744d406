import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnhancedEventEmitter } from './EnhancedEventEmitter';

type Events = { ping: [n: number]; pong: [] };

class Emitter extends EnhancedEventEmitter<Events> {
  errors: unknown[] = [];
  on<K extends keyof Events & string>(event: K, cb: (...args: Events[K]) => void): this {
    this.replaceListener(event, cb);
    return this;
  }
  fire<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    return this.safeEmit(event, ...args);
  }
  protected override onListenerError(_event: string, error: unknown): void {
    this.errors.push(error);
  }
}

test('once() fires once; listenerCount and removeAllListeners', () => {
  const e = new Emitter();
  const got: number[] = [];
  e.once('ping', (n) => got.push(n));
  e.on('ping', (n) => got.push(n * 10));
  assert.equal(e.listenerCount('ping'), 2);
  e.fire('ping', 1);
  e.fire('ping', 2);
  assert.deepEqual(got, [1, 10, 20]);
  e.removeAllListeners();
  assert.equal(e.fire('ping', 3), false);
  // on() after removeAllListeners still works (no stale single listener).
  e.on('ping', (n) => got.push(n));
  e.fire('ping', 4);
  assert.deepEqual(got, [1, 10, 20, 4]);
});

test('on() replaces only its own callback, off() removes an addListener one', () => {
  const e = new Emitter();
  const got: string[] = [];
  const keep = (): void => {
    got.push('keep');
  };
  e.addListener('pong', keep);
  e.on('pong', () => got.push('on1')).on('pong', () => got.push('on2'));
  e.fire('pong');
  assert.deepEqual(got, ['keep', 'on2']);
  e.off('pong', keep);
  e.fire('pong');
  assert.deepEqual(got, ['keep', 'on2', 'on2']);
});

test('a throwing listener is reported, not thrown to the emitter', () => {
  const e = new Emitter();
  e.on('pong', () => {
    throw new Error('boom');
  });
  assert.doesNotThrow(() => e.fire('pong'));
  assert.equal((e.errors[0] as Error).message, 'boom');
});
