/**
 * The shared machinery of one user agent: transport, transaction layer, identities (Contact,
 * From, AOR), and dispatch of incoming requests to the dialogs that own them. Requests that
 * belong to no dialog are answered here (RFC 3261 §8.2, §12.2.2, §9.2).
 */
import {
  formatNameAddr,
  formatSipUri,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Logger } from '../../util/Logger.js';
import type { Clock } from '../transaction/Clock.js';
import { buildResponse } from '../transaction/buildResponse.js';
import { InviteServerTransaction } from '../transaction/InviteServerTransaction.js';
import type { ServerTransaction, TransactionManager } from '../transaction/TransactionManager.js';
import type { SipTransport } from '../transport/SipTransport.js';
import { parseHostPort, type SipAccountConfig } from './SipAccountConfig.js';
import { ALLOW } from './requestBuilder.js';

/** Something that owns a dialog (a call) and handles the requests and stray responses in it. */
export interface DialogUser {
  readonly callId: string;
  /** Handles a request of this Call-ID; returns false when it matches none of its dialogs. */
  handleRequest(req: SipRequest, tx: ServerTransaction | undefined): boolean;
  /** A response that matched no transaction (a 2xx retransmission after the INVITE transaction ended). */
  handleStrayResponse(res: SipResponse): void;
  /** The user agent is closing: stop timers, emit final events. */
  shutdown(reason: string): void;
}

/** Something with timers that must stop when the user agent closes. */
export interface Shutdownable {
  shutdown(): void;
}

/** Methods RFC 3261 and its common extensions define: answered 405 when not allowed, others 501. */
const KNOWN_METHODS = new Set([
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK', 'UPDATE', 'SUBSCRIBE',
  'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH',
]);

/** Counters of the UA core. */
export interface UaCoreCounters {
  /** Requests answered 481 (no such dialog/transaction). */
  noDialog: number;
  /** Requests answered 405 or 501. */
  notAllowed: number;
  /** OPTIONS answered outside a dialog. */
  options: number;
}

/** Core of a {@link SipUserAgent}; shared with its calls and registrations. */
export class UaCore {
  readonly log: Logger;
  readonly clock: Clock;
  readonly transport: SipTransport;
  readonly transactions: TransactionManager;
  readonly userAgent: string;
  readonly #dialogs = new Map<string, DialogUser>();
  readonly #others = new Set<Shutdownable>();
  readonly #counters: UaCoreCounters = { noDialog: 0, notAllowed: 0, options: 0 };

  constructor(o: { log: Logger; clock: Clock; transport: SipTransport; transactions: TransactionManager; userAgent: string }) {
    this.log = o.log;
    this.clock = o.clock;
    this.transport = o.transport;
    this.transactions = o.transactions;
    this.userAgent = o.userAgent;
    this.transactions.on('request', (req, tx) => this.#onRequest(req, tx));
    this.transactions.on('response', (res) => this.#onStrayResponse(res));
  }

  /** Snapshot of the counters. */
  get counters(): UaCoreCounters {
    return { ...this.#counters };
  }

  /** Number of live dialog users (calls). */
  get dialogCount(): number {
    return this.#dialogs.size;
  }

  /** Number of live registrations and other timer owners. */
  get otherCount(): number {
    return this.#others.size;
  }

  /** Our Contact for `account`: login at our public address and port, `;transport=tcp` for TCP. */
  contact(account: SipAccountConfig): string {
    const uri = formatSipUri({
      scheme: 'sip',
      user: account.login,
      host: this.transport.sentByHost,
      port: this.transport.port,
      params: account.transport === 'tcp' ? [{ name: 'transport', value: 'tcp' }] : [],
      headers: [],
    });
    return `<${uri}>`;
  }

  /** The account's address of record, `sip:login@domain`. */
  aor(account: SipAccountConfig): string {
    return this.userUri(account.login, account);
  }

  /** `sip:user@domain` with the account's domain (host[:port] as configured). */
  userUri(user: string, account: SipAccountConfig): string {
    const d = parseHostPort(account.domain);
    return formatSipUri({ scheme: 'sip', user, host: d.host, ...(d.port !== undefined ? { port: d.port } : {}), params: [], headers: [] });
  }

  /** Our From value: `"displayName" <sip:login@domain>;tag=...`. */
  fromValue(account: SipAccountConfig, tag: string): string {
    const dn = account.displayName !== undefined && account.displayName !== '' ? { displayName: account.displayName } : {};
    return formatNameAddr({ ...dn, uri: this.aor(account), params: [{ name: 'tag', value: tag }] });
  }

  /** Registers a call so in-dialog requests with its Call-ID reach it. */
  addDialogUser(user: DialogUser): void {
    this.#dialogs.set(user.callId, user);
  }

  /** Forgets a call. */
  removeDialogUser(user: DialogUser): void {
    if (this.#dialogs.get(user.callId) === user) this.#dialogs.delete(user.callId);
  }

  /** True when a live call uses `callId`. */
  hasCallId(callId: string): boolean {
    return this.#dialogs.has(callId);
  }

  /** Tracks a registration (for shutdown). */
  addOther(o: Shutdownable): void {
    this.#others.add(o);
  }

  /** Stops tracking a registration. */
  removeOther(o: Shutdownable): void {
    this.#others.delete(o);
  }

  /** Answers `tx` with a simple response (logging instead of throwing on failure). */
  respond(tx: ServerTransaction, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []): void {
    try {
      tx.respond(buildResponse(tx.request, status, reason, { headers: [...headers, ['Server', this.userAgent]] }));
    } catch (e) {
      this.log.warn(`cannot answer ${tx.request.method}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Shuts every call and registration down (no network traffic). */
  shutdownAll(reason: string): void {
    for (const d of [...this.#dialogs.values()]) d.shutdown(reason);
    for (const o of [...this.#others]) o.shutdown();
    this.#dialogs.clear();
    this.#others.clear();
  }

  #onStrayResponse(res: SipResponse): void {
    const user = this.#dialogs.get(res.headers.get('Call-ID') ?? '');
    if (user) user.handleStrayResponse(res);
  }

  #onRequest(req: SipRequest, tx: ServerTransaction | undefined): void {
    const user = this.#dialogs.get(req.headers.get('Call-ID') ?? '');
    if (req.method === 'CANCEL' && tx) {
      this.#onCancel(req, tx);
      return;
    }
    if (user && user.handleRequest(req, tx)) return;
    if (!tx) return; // an ACK for nothing we know: ignore (§17.2.3)
    if (req.method === 'OPTIONS') {
      this.#counters.options++;
      this.respond(tx, 200, 'OK', [['Allow', ALLOW], ['Accept', 'application/sdp']]);
      return;
    }
    if (!KNOWN_METHODS.has(req.method)) {
      this.#counters.notAllowed++;
      this.respond(tx, 501, 'Not Implemented', [['Allow', ALLOW]]);
      return;
    }
    if (/;\s*tag\s*=/i.test(req.headers.get('To') ?? '')) {
      // Claims to be inside a dialog we do not have (§12.2.2).
      this.#counters.noDialog++;
      this.respond(tx, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    // sipcast only places calls; incoming calls, registrations and the like are not allowed here.
    this.#counters.notAllowed++;
    this.respond(tx, 405, 'Method Not Allowed', [['Allow', 'OPTIONS']]);
  }

  /** CANCEL (§9.2): 200 and 487 for a pending INVITE transaction, else 481. */
  #onCancel(req: SipRequest, tx: ServerTransaction): void {
    const inviteTx = this.transactions.findInviteServerTransaction(req);
    if (!(inviteTx instanceof InviteServerTransaction) || inviteTx.finalStatus !== undefined) {
      this.#counters.noDialog++;
      this.respond(tx, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    this.respond(tx, 200, 'OK');
    this.respond(inviteTx, 487, 'Request Terminated');
  }
}
