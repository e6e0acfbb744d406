/**
 * Shared shapes of the transaction layer (RFC 3261 §17).
 */
import type { SipResponse } from '../message/index.js';
import type { Logger } from '../../util/Logger.js';
import type { Clock } from './Clock.js';
import type { TimerConfig } from './TimerConfig.js';

/** Mutable counters shared by the transactions of one manager. */
export interface TransactionStats {
  /** Requests and responses sent again by a timer or because a retransmission came in. */
  retransmissions: number;
  /** Retransmitted requests/responses received and absorbed by a transaction. */
  absorbed: number;
  /** Client transactions ended by timer B or F, server ones by timer H. */
  timeouts: number;
  /** Sends that failed in the transport. */
  transportErrors: number;
}

/** What every transaction needs from its manager. */
export interface TransactionDeps {
  readonly clock: Clock;
  readonly timers: TimerConfig;
  readonly log: Logger;
  readonly stats: TransactionStats;
  /** True for TCP: no retransmissions, and timers D/K/I/J are zero (RFC 3261 §17). */
  readonly reliable: boolean;
}

/** A client transaction also needs its (resolved) destination. */
export interface ClientTransactionDeps extends TransactionDeps {
  /** Sends bytes to the request's destination. */
  readonly send: (data: Buffer) => Promise<void>;
}

/** A server transaction sends responses the way RFC 3261 §18.2.2 routes them. */
export interface ServerTransactionDeps extends TransactionDeps {
  /** Sends a response back towards the request's sender. */
  readonly sendResponse: (res: SipResponse) => Promise<void>;
}

/** Events of a client transaction. */
export type ClientTransactionEvents = {
  /** A response for the TU: provisionals, the first final, and (INVITE) 2xx retransmissions. */
  response: [res: SipResponse];
  /** Timer B or F fired: the TU treats it as 408 Request Timeout (§8.1.3.1). */
  timeout: [];
  /** The transport failed: the TU treats it as 503 Service Unavailable (§8.1.3.1). */
  transportError: [err: Error];
  /** The transaction is gone; the manager forgets it. */
  terminated: [];
};

/** Events of a server transaction. */
export type ServerTransactionEvents = {
  /** INVITE: an ACK for the final response arrived. */
  acked: [];
  /** INVITE: timer H fired without an ACK for the final response. */
  ackTimeout: [];
  /** A response could not be sent. */
  transportError: [err: Error];
  terminated: [];
};
