/**
 * INVITE server transaction (RFC 3261 §17.2.1), used for re-INVITEs from the peer.
 *
 *   proceeding --2xx--> accepted  --ACK--> confirmed (timer I: T4 over UDP, 0 over TCP) --> terminated
 *        '---300-699--> completed --ACK--'
 *
 * Unlike plain RFC 3261, where the UAS core retransmits a 2xx (§13.3.1.4), this transaction
 * retransmits every final response, 2xx included, with timer G (T1 doubling up to T2, UDP only)
 * until the ACK arrives or timer H (64·T1) gives up. The TU hands over the ACK of a 2xx (which
 * has its own branch) via {@link receiveAck}. 100 Trying goes out by itself when the TU has not
 * answered within 200 ms, stopping INVITE retransmissions from the peer.
 */
import { serializeSipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import type { SipSource } from '../transport/types.js';
import { buildResponse } from './buildResponse.js';
import { NamedTimers } from './NamedTimers.js';
import type { ServerTransactionDeps, ServerTransactionEvents } from './types.js';

/** States of an INVITE server transaction. */
export type InviteServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** INVITE server transaction: the TU answers with {@link respond}. */
export class InviteServerTransaction extends TypedEmitter<ServerTransactionEvents> {
  readonly request: SipRequest;
  readonly source: SipSource;
  readonly #deps: ServerTransactionDeps;
  readonly #timers: NamedTimers;
  #state: InviteServerState = 'proceeding';
  #last: SipResponse | undefined;
  #finalStatus: number | undefined;

  constructor(request: SipRequest, source: SipSource, deps: ServerTransactionDeps) {
    super();
    this.request = request;
    this.source = source;
    this.#deps = deps;
    this.#timers = new NamedTimers(deps.clock);
    this.#timers.start('trying', deps.timers.trying, () => {
      if (this.#state === 'proceeding' && this.#last === undefined) this.respond(buildResponse(request, 100, 'Trying'));
    });
  }

  /** Current state. */
  get state(): InviteServerState {
    return this.#state;
  }

  /** Status of the final response sent, if any. */
  get finalStatus(): number | undefined {
    return this.#finalStatus;
  }

  /** Sends a response. After the final response, further ones are ignored. */
  respond(res: SipResponse): void {
    if (this.#state !== 'proceeding') return;
    this.#timers.stop('trying');
    // Serialize now so an unwritable response throws to the TU instead of failing later.
    serializeSipMessage(res);
    this.#last = res;
    this.#transmit(this.#last);
    if (res.status < 200) return;
    this.#finalStatus = res.status;
    this.#state = res.status < 300 ? 'accepted' : 'completed';
    const { t1 } = this.#deps.timers;
    if (!this.#deps.reliable) this.#scheduleG(t1);
    this.#timers.start('H', 64 * t1, () => {
      this.#deps.stats.timeouts++;
      this.emit('ackTimeout');
      this.#terminate();
    });
  }

  /** A retransmission of the INVITE arrived: resend the last response (§17.2.1). */
  receiveRetransmission(): void {
    this.#deps.stats.absorbed++;
    if (this.#last !== undefined && this.#state !== 'confirmed' && this.#state !== 'terminated') {
      this.#deps.stats.retransmissions++;
      this.#transmit(this.#last);
    }
  }

  /** The ACK for the final response arrived. Later ACKs are absorbed. */
  receiveAck(): void {
    if (this.#state !== 'accepted' && this.#state !== 'completed') {
      this.#deps.stats.absorbed++;
      return;
    }
    this.#state = 'confirmed';
    this.#timers.stopAll();
    // Timer I absorbs ACK retransmissions over UDP.
    this.#timers.start('I', this.#deps.reliable ? 0 : this.#deps.timers.t4, () => this.#terminate());
    this.emit('acked');
  }

  /** Ends the transaction without further events (UA shutdown). */
  terminate(): void {
    this.#timers.stopAll();
    this.#state = 'terminated';
  }

  #scheduleG(interval: number): void {
    this.#timers.start('G', interval, () => {
      if (this.#state !== 'accepted' && this.#state !== 'completed') return;
      if (this.#last === undefined) return;
      this.#deps.stats.retransmissions++;
      this.#transmit(this.#last);
      this.#scheduleG(Math.min(2 * interval, this.#deps.timers.t2));
    });
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
