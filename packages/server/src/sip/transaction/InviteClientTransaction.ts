/**
 * INVITE client transaction (RFC 3261 §17.1.1 with the Accepted state of RFC 6026 §7.2).
 *
 *   calling --1xx--> proceeding --2xx--> accepted (timer M = 64·T1, 2xx retransmissions to the TU)
 *      |                 |------300-699--> completed (ACK sent here, timer D) --> terminated
 *      '-- timer B (64·T1): timeout
 *
 * Timer A retransmits the INVITE over UDP, starting at T1 and doubling. The ACK for a non-2xx
 * final response belongs to this transaction (same branch); the ACK for a 2xx is the dialog's.
 */
import { SipHeaders, serializeSipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { NamedTimers } from './NamedTimers.js';
import type { ClientTransactionDeps, ClientTransactionEvents } from './types.js';

/** States of an INVITE client transaction. */
export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** INVITE client transaction. Call {@link start} once, then feed matching responses to {@link receive}. */
export class InviteClientTransaction extends TypedEmitter<ClientTransactionEvents> {
  /** The INVITE as sent (top Via carries {@link branch}). */
  readonly request: SipRequest;
  readonly branch: string;
  readonly #deps: ClientTransactionDeps;
  readonly #timers: NamedTimers;
  readonly #data: Buffer;
  #state: InviteClientState = 'calling';
  #ack: Buffer | undefined;

  constructor(request: SipRequest, branch: string, deps: ClientTransactionDeps) {
    super();
    this.request = request;
    this.branch = branch;
    this.#deps = deps;
    this.#timers = new NamedTimers(deps.clock);
    this.#data = serializeSipMessage(request);
  }

  /** Current state. */
  get state(): InviteClientState {
    return this.#state;
  }

  /** Sends the INVITE and starts timers A (UDP only) and B. */
  start(): void {
    const { t1 } = this.#deps.timers;
    this.#transmit(this.#data);
    if (!this.#deps.reliable) this.#scheduleA(t1);
    this.#timers.start('B', 64 * t1, () => {
      if (this.#state !== 'calling') return;
      this.#deps.stats.timeouts++;
      this.emit('timeout');
      this.#terminate();
    });
  }

  /** Handles a response whose branch and CSeq method matched this transaction. */
  receive(res: SipResponse): void {
    const s = res.status;
    switch (this.#state) {
      case 'calling':
      case 'proceeding':
        if (s < 200) {
          this.#state = 'proceeding';
          // Retransmissions stop once the UAS has shown it got the INVITE; B only guards 'calling'.
          this.#timers.stop('A');
          this.#timers.stop('B');
          this.emit('response', res);
        } else if (s < 300) {
          this.#state = 'accepted';
          this.#timers.stopAll();
          // RFC 6026: stay around for 64·T1 so 2xx retransmissions (and forked 2xx) reach the TU.
          this.#timers.start('M', 64 * this.#deps.timers.t1, () => this.#terminate());
          this.emit('response', res);
        } else {
          this.#state = 'completed';
          this.#timers.stopAll();
          this.#sendAck(res);
          const d = this.#deps.reliable ? 0 : this.#deps.timers.d;
          this.#timers.start('D', d, () => this.#terminate());
          this.emit('response', res);
        }
        break;
      case 'accepted':
        if (s >= 200 && s < 300) this.emit('response', res);
        else this.#deps.stats.absorbed++;
        break;
      case 'completed':
        // A retransmitted final response means our ACK was lost: send it again (§17.1.1.2).
        this.#deps.stats.absorbed++;
        if (s >= 300 && this.#ack) {
          this.#deps.stats.retransmissions++;
          this.#transmit(this.#ack);
        }
        break;
      case 'terminated':
        break;
    }
  }

  /** Ends the transaction without further events (UA shutdown). */
  terminate(): void {
    this.#timers.stopAll();
    this.#state = 'terminated';
  }

  #scheduleA(interval: number): void {
    this.#timers.start('A', interval, () => {
      if (this.#state !== 'calling') return;
      this.#deps.stats.retransmissions++;
      this.#transmit(this.#data);
      this.#scheduleA(interval * 2);
    });
  }

  /**
   * ACK for a non-2xx final response (§17.1.1.3): Request-URI, Call-ID, From, top Via and Route
   * of the INVITE, To of the response (with its tag), CSeq number of the INVITE.
   */
  #sendAck(res: SipResponse): void {
    const inv = this.request;
    const headers = new SipHeaders();
    const via = inv.headers.get('Via');
    if (via !== undefined) headers.append('Via', via);
    for (const r of inv.headers.getAll('Route')) headers.append('Route', r);
    headers.append('Max-Forwards', '70');
    headers.append('From', inv.headers.get('From') ?? '');
    headers.append('To', res.headers.get('To') ?? inv.headers.get('To') ?? '');
    headers.append('Call-ID', inv.headers.get('Call-ID') ?? '');
    const seq = (inv.headers.get('CSeq') ?? '1').trim().split(/\s+/)[0] ?? '1';
    headers.append('CSeq', `${seq} ACK`);
    const ua = inv.headers.get('User-Agent');
    if (ua !== undefined) headers.append('User-Agent', ua);
    try {
      this.#ack = serializeSipMessage({ kind: 'request', method: 'ACK', uri: inv.uri, headers, body: Buffer.alloc(0) });
    } catch {
      // The response's To could not be written back (it parsed, so this does not happen).
      return;
    }
    this.#transmit(this.#ack);
  }

  #transmit(data: Buffer): void {
    this.#deps.send(data).catch((err: unknown) => {
      this.#deps.stats.transportErrors++;
      if (this.#state === 'terminated') return;
      // Only a failure before any response ends the transaction; a lost ACK is retried on demand.
      if (this.#state === 'calling') {
        this.emit('transportError', err instanceof Error ? err : new Error(String(err)));
        this.#terminate();
      }
    });
  }

  #terminate(): void {
    if (this.#state === 'terminated') return;
    this.#timers.stopAll();
    this.#state = 'terminated';
    this.emit('terminated');
  }
}
