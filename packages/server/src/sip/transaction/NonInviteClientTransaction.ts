/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2).
 *
 *   trying --1xx--> proceeding --200-699--> completed (timer K: T4 over UDP, 0 over TCP) --> terminated
 *      '--------------'-- timer F (64·T1): timeout
 *
 * Timer E retransmits over UDP: T1 doubling up to T2 while trying, every T2 once proceeding.
 */
import { serializeSipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { NamedTimers } from './NamedTimers.js';
import type { ClientTransactionDeps, ClientTransactionEvents } from './types.js';

/** States of a non-INVITE client transaction. */
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Non-INVITE client transaction. Call {@link start} once, then feed matching responses to {@link receive}. */
export class NonInviteClientTransaction extends TypedEmitter<ClientTransactionEvents> {
  readonly request: SipRequest;
  readonly branch: string;
  readonly #deps: ClientTransactionDeps;
  readonly #timers: NamedTimers;
  readonly #data: Buffer;
  #state: NonInviteClientState = 'trying';

  constructor(request: SipRequest, branch: string, deps: ClientTransactionDeps) {
    super();
    this.request = request;
    this.branch = branch;
    this.#deps = deps;
    this.#timers = new NamedTimers(deps.clock);
    this.#data = serializeSipMessage(request);
  }

  /** Current state. */
  get state(): NonInviteClientState {
    return this.#state;
  }

  /** Sends the request and starts timers E (UDP only) and F. */
  start(): void {
    const { t1 } = this.#deps.timers;
    this.#transmit();
    if (!this.#deps.reliable) this.#scheduleE(t1);
    this.#timers.start('F', 64 * t1, () => {
      this.#deps.stats.timeouts++;
      this.emit('timeout');
      this.#terminate();
    });
  }

  /** Handles a response whose branch and CSeq method matched this transaction. */
  receive(res: SipResponse): void {
    if (this.#state === 'completed') {
      this.#deps.stats.absorbed++;
      return;
    }
    if (this.#state === 'terminated') return;
    if (res.status < 200) {
      // The running timer E keeps its interval; from its next firing on it repeats every T2 (§17.1.2.2).
      if (this.#state === 'trying') this.#state = 'proceeding';
      this.emit('response', res);
      return;
    }
    this.#state = 'completed';
    this.#timers.stopAll();
    // Timer K absorbs retransmitted final responses over UDP (§17.1.2.2).
    const k = this.#deps.reliable ? 0 : this.#deps.timers.t4;
    this.#timers.start('K', k, () => this.#terminate());
    this.emit('response', res);
  }

  /** Ends the transaction without further events (UA shutdown). */
  terminate(): void {
    this.#timers.stopAll();
    this.#state = 'terminated';
  }

  #scheduleE(interval: number): void {
    this.#timers.start('E', interval, () => {
      if (this.#state !== 'trying' && this.#state !== 'proceeding') return;
      this.#deps.stats.retransmissions++;
      this.#transmit();
      const { t2 } = this.#deps.timers;
      this.#scheduleE(this.#state === 'trying' ? Math.min(2 * interval, t2) : t2);
    });
  }

  #transmit(): void {
    this.#deps.send(this.#data).catch((err: unknown) => {
      this.#deps.stats.transportErrors++;
      if (this.#state !== 'trying' && this.#state !== 'proceeding') return;
      this.emit('transportError', err instanceof Error ? err : new Error(String(err)));
      this.#terminate();
    });
  }

  #terminate(): void {
    if (this.#state === 'terminated') return;
    this.#timers.stopAll();
    this.#state = 'terminated';
    this.emit('terminated');
  }
}
