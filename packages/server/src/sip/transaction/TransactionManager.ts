/**
 * The transaction layer (RFC 3261 §17) on top of one {@link SipTransport}: creates client
 * transactions for outgoing requests (adding our Via with a fresh branch), matches incoming
 * responses to them, and creates server transactions for incoming requests, absorbing
 * retransmissions before the TU (the user agent) sees anything twice.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Logger } from '../../util/Logger.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import type { SipTransport } from '../transport/SipTransport.js';
import type { SipEndpoint, SipSource } from '../transport/types.js';
import { systemClock, type Clock } from './Clock.js';
import { InviteClientTransaction } from './InviteClientTransaction.js';
import { InviteServerTransaction } from './InviteServerTransaction.js';
import { NonInviteClientTransaction } from './NonInviteClientTransaction.js';
import { NonInviteServerTransaction } from './NonInviteServerTransaction.js';
import { newBranch } from './random.js';
import { timerConfig, type TimerConfig } from './TimerConfig.js';
import { clientKey, clientKeyOfResponse, serverKey } from './transactionKeys.js';
import type { TransactionStats } from './types.js';

/** Either kind of client transaction. */
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
/** Either kind of server transaction. */
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** Options for {@link TransactionManager}. */
export interface TransactionManagerOptions {
  readonly transport: SipTransport;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly timers?: Partial<TimerConfig>;
}

/** Counters of a {@link TransactionManager}. */
export interface TransactionCounters extends TransactionStats {
  /** Client transactions currently alive. */
  clientTransactions: number;
  /** Server transactions currently alive. */
  serverTransactions: number;
  /** Responses that matched no client transaction (handed to the TU, e.g. a late 2xx). */
  strayResponses: number;
}

/** Events for the TU. */
export type TransactionManagerEvents = {
  /**
   * A new request. `tx` is its server transaction, through which it must be answered;
   * undefined for an ACK that matched no transaction (the ACK of a 2xx, which is the dialog's).
   */
  request: [req: SipRequest, tx: ServerTransaction | undefined, source: SipSource];
  /** A response without a client transaction (2xx retransmissions after the transaction ended). */
  response: [res: SipResponse, source: SipSource];
};

/** Transaction layer of one user agent. */
export class TransactionManager extends TypedEmitter<TransactionManagerEvents> {
  readonly #transport: SipTransport;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #timers: TimerConfig;
  readonly #client = new Map<string, ClientTransaction>();
  readonly #server = new Map<string, ServerTransaction>();
  readonly #stats: TransactionStats = { retransmissions: 0, absorbed: 0, timeouts: 0, transportErrors: 0 };
  #stray = 0;
  #closed = false;
  readonly #onRequest = (req: SipRequest, source: SipSource): void => this.#receiveRequest(req, source);
  readonly #onResponse = (res: SipResponse, source: SipSource): void => this.#receiveResponse(res, source);

  constructor(o: TransactionManagerOptions) {
    super();
    this.#transport = o.transport;
    this.#log = o.log;
    this.#clock = o.clock ?? systemClock;
    this.#timers = timerConfig(o.timers);
    this.#transport.on('request', this.#onRequest);
    this.#transport.on('response', this.#onResponse);
  }

  /** The clock all timers use. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The effective timer values. */
  get timers(): TimerConfig {
    return this.#timers;
  }

  /** The transport underneath. */
  get transport(): SipTransport {
    return this.#transport;
  }

  /** Snapshot of the counters. */
  get counters(): TransactionCounters {
    return { ...this.#stats, clientTransactions: this.#client.size, serverTransactions: this.#server.size, strayResponses: this.#stray };
  }

  /**
   * Sends `req` in a new client transaction (INVITE or non-INVITE by method) to `dest`. Our Via
   * is prepended with `branch` (default: a new one; a CANCEL passes its INVITE's). The returned
   * transaction has started; listen to it right away (events are emitted asynchronously).
   */
  sendRequest(req: SipRequest, dest: SipEndpoint, o: { branch?: string } = {}): ClientTransaction {
    if (req.method === 'ACK') throw new Error('ACK is not sent in a transaction');
    if (this.#closed) throw new Error('transaction layer closed');
    const branch = o.branch ?? newBranch();
    req.headers.prepend('Via', this.#transport.createVia(dest.transport, branch));
    const deps = {
      clock: this.#clock,
      timers: this.#timers,
      log: this.#log,
      stats: this.#stats,
      reliable: dest.transport === 'tcp',
      send: (data: Buffer): Promise<void> => this.#transport.send(data, dest),
    };
    const tx = req.method === 'INVITE' ? new InviteClientTransaction(req, branch, deps) : new NonInviteClientTransaction(req, branch, deps);
    const key = clientKey(branch, req.method);
    this.#client.set(key, tx);
    tx.on('terminated', () => {
      if (this.#client.get(key) === tx) this.#client.delete(key);
    });
    tx.start();
    return tx;
  }

  /**
   * Sends a request outside any transaction (the ACK for a 2xx, §13.2.2.4), prepending our Via
   * with a new branch. Resend the same object with {@link resendStateless}.
   */
  async sendStateless(req: SipRequest, dest: SipEndpoint): Promise<void> {
    req.headers.prepend('Via', this.#transport.createVia(dest.transport, newBranch()));
    await this.#transport.send(req, dest);
  }

  /** Sends an already Via-stamped request again (ACK for a retransmitted 2xx). */
  async resendStateless(req: SipRequest, dest: SipEndpoint): Promise<void> {
    this.#stats.retransmissions++;
    await this.#transport.send(req, dest);
  }

  /** The INVITE server transaction a CANCEL refers to (§9.2), if still alive. */
  findInviteServerTransaction(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey(cancel, 'INVITE');
    const tx = key === undefined ? undefined : this.#server.get(key);
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Terminates every transaction silently and detaches from the transport. */
  close(): void {
    this.#closed = true;
    this.#transport.off('request', this.#onRequest);
    this.#transport.off('response', this.#onResponse);
    for (const tx of this.#client.values()) tx.terminate();
    for (const tx of this.#server.values()) tx.terminate();
    this.#client.clear();
    this.#server.clear();
  }

  #receiveResponse(res: SipResponse, source: SipSource): void {
    const key = clientKeyOfResponse(res);
    const tx = key === undefined ? undefined : this.#client.get(key);
    if (tx) {
      tx.receive(res);
      return;
    }
    this.#stray++;
    this.emit('response', res, source);
  }

  #receiveRequest(req: SipRequest, source: SipSource): void {
    if (this.#closed) return;
    const key = serverKey(req);
    const existing = key === undefined ? undefined : this.#server.get(key);
    if (req.method === 'ACK') {
      // Same branch as the INVITE: the ACK of a non-2xx final response, absorbed here (§17.2.1).
      if (existing instanceof InviteServerTransaction && existing.finalStatus !== undefined && existing.finalStatus >= 300) {
        existing.receiveAck();
        return;
      }
      this.emit('request', req, undefined, source);
      return;
    }
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    const deps = {
      clock: this.#clock,
      timers: this.#timers,
      log: this.#log,
      stats: this.#stats,
      reliable: source.transport === 'tcp',
      sendResponse: (res: SipResponse): Promise<void> => this.#transport.sendResponse(res, source),
    };
    const tx = req.method === 'INVITE' ? new InviteServerTransaction(req, source, deps) : new NonInviteServerTransaction(req, source, deps);
    if (key !== undefined) {
      this.#server.set(key, tx);
      tx.on('terminated', () => {
        if (this.#server.get(key) === tx) this.#server.delete(key);
      });
    }
    this.emit('request', req, tx, source);
  }
}
