/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2).
 *
 *   trying --1xx--> proceeding --200-699--> completed (timer J: 64·T1 over UDP, 0 over TCP) --> terminated
 *
 * Retransmitted requests are absorbed; in proceeding and completed they trigger a resend of the
 * last response, which is how the client learns its response was lost.
 */
import { serializeSipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import type { SipSource } from '../transport/types.js';
import { NamedTimers } from './NamedTimers.js';
import type { ServerTransactionDeps, ServerTransactionEvents } from './types.js';

/** States of a non-INVITE server transaction. */
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Non-INVITE server transaction: the TU answers with {@link respond}. */
export class NonInviteServerTransaction extends TypedEmitter<ServerTransactionEvents> {
  readonly request: SipRequest;
  readonly source: SipSource;
  readonly #deps: ServerTransactionDeps;
  readonly #timers: NamedTimers;
  #state: NonInviteServerState = 'trying';
  #last: SipResponse | undefined;

  constructor(request: SipRequest, source: SipSource, deps: ServerTransactionDeps) {
    super();
    this.request = request;
    this.source = source;
    this.#deps = deps;
    this.#timers = new NamedTimers(deps.clock);
  }

  /** Current state. */
  get state(): NonInviteServerState {
    return this.#state;
  }

  /** True once a final response was sent. */
  get answered(): boolean {
    return this.#state === 'completed' || this.#state === 'terminated';
  }

  /** Sends a response. Responses after the final one are ignored. */
  respond(res: SipResponse): void {
    if (this.answered) return;
    // Serialize now so an unwritable response throws to the TU instead of failing later.
    serializeSipMessage(res);
    this.#last = res;
    this.#transmit(this.#last);
    if (res.status < 200) {
      this.#state = 'proceeding';
      return;
    }
    this.#state = 'completed';
    const j = this.#deps.reliable ? 0 : 64 * this.#deps.timers.t1;
    this.#timers.start('J', j, () => this.#terminate());
  }

  /** A retransmission of the request arrived. */
  receiveRetransmission(): void {
    this.#deps.stats.absorbed++;
    if ((this.#state === 'proceeding' || this.#state === 'completed') && this.#last) {
      this.#deps.stats.retransmissions++;
      this.#transmit(this.#last);
    }
  }

  /** Ends the transaction without further events (UA shutdown). */
  terminate(): void {
    this.#timers.stopAll();
    this.#state = 'terminated';
  }

  #transmit(res: SipResponse): void {
    this.#deps.sendResponse(res).catch((err: unknown) => {
      this.#deps.stats.transportErrors++;
      if (this.#state === 'terminated') return;
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
