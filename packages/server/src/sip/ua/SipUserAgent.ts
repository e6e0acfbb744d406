/**
 * sipcast's SIP user agent: one transport (UDP+TCP on one port), its transaction layer, and the
 * registrations and outgoing calls placed through it.
 */
import type { Logger } from '../../util/Logger.js';
import { systemClock, type Clock } from '../transaction/Clock.js';
import type { TimerConfig } from '../transaction/TimerConfig.js';
import { TransactionManager, type TransactionCounters } from '../transaction/TransactionManager.js';
import { SipTransport, type SipTransportCounters } from '../transport/SipTransport.js';
import { SipClientCall, type SipInviteOptions } from './SipClientCall.js';
import type { SipAccountConfig } from './SipAccountConfig.js';
import { SipRegistration } from './SipRegistration.js';
import { SipRequestError } from './SipRequestError.js';
import { UaCore, type UaCoreCounters } from './UaCore.js';

/** Options of {@link SipUserAgent.create}. */
export interface SipUserAgentOptions {
  /** Local address for UDP and TCP (default 127.0.0.1). */
  bindAddress?: string;
  /** Local port, 0 = ephemeral (default 0). */
  port?: number;
  /** Host for Contact and Via (default: the bind address). */
  publicAddress?: string;
  /** User-Agent / Server header value (default "sipcast"). */
  userAgent?: string;
  log: Logger;
  /** Timer source (default: the system clock). */
  clock?: Clock;
  /** RFC 3261 timer overrides (T1, T2, T4, D). */
  timers?: Partial<TimerConfig>;
  /** TCP idle timeout in ms (default 60 s). */
  tcpIdleTimeoutMs?: number;
  /** Inbound TCP connections per remote IP (default 16). */
  maxConnectionsPerIp?: number;
}

/** Counters of a {@link SipUserAgent}. */
export interface SipUserAgentCounters {
  readonly transport: Readonly<SipTransportCounters>;
  readonly transactions: Readonly<TransactionCounters>;
  readonly core: Readonly<UaCoreCounters>;
  /** Calls placed since start. */
  readonly callsPlaced: number;
  /** Calls not yet forgotten (live, or ended within the last 64·T1). */
  readonly activeCalls: number;
  /** Registrations being refreshed. */
  readonly activeRegistrations: number;
}

/** Graceful part of {@link SipUserAgent.close}: how long hang-ups and unregistrations may take. */
const CLOSE_GRACE_MS = 2000;

/** A SIP user agent. */
export class SipUserAgent {
  readonly #core: UaCore;
  readonly #transport: SipTransport;
  readonly #transactions: TransactionManager;
  readonly #calls = new Set<SipClientCall>();
  readonly #registrations = new Set<SipRegistration>();
  #placed = 0;
  #closed = false;

  private constructor(core: UaCore) {
    this.#core = core;
    this.#transport = core.transport;
    this.#transactions = core.transactions;
  }

  /** Binds the transport and returns a ready user agent. */
  static async create(o: SipUserAgentOptions): Promise<SipUserAgent> {
    const log = o.log;
    const userAgent = o.userAgent ?? 'sipcast';
    const transport = await SipTransport.create({
      log: log.child('sip'),
      ...(o.bindAddress !== undefined ? { bindAddress: o.bindAddress } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.publicAddress !== undefined ? { publicAddress: o.publicAddress } : {}),
      ...(o.tcpIdleTimeoutMs !== undefined ? { idleTimeoutMs: o.tcpIdleTimeoutMs } : {}),
      ...(o.maxConnectionsPerIp !== undefined ? { maxConnectionsPerIp: o.maxConnectionsPerIp } : {}),
      serverName: userAgent,
    });
    const clock = o.clock ?? systemClock;
    const transactions = new TransactionManager({ transport, log: log.child('sip'), clock, ...(o.timers ? { timers: o.timers } : {}) });
    return new SipUserAgent(new UaCore({ log: log.child('sip'), clock, transport, transactions, userAgent }));
  }

  /** The local UDP/TCP port. */
  get port(): number {
    return this.#transport.port;
  }

  /** Snapshot of the counters. */
  get counters(): SipUserAgentCounters {
    return {
      transport: this.#transport.counters,
      transactions: this.#transactions.counters,
      core: this.#core.counters,
      callsPlaced: this.#placed,
      activeCalls: this.#core.dialogCount,
      activeRegistrations: this.#core.otherCount,
    };
  }

  /**
   * Registers `account` (default 3600 s). Resolves on 2xx with the granted expiry and keeps the
   * binding refreshed; rejects with {@link SipRequestError} (401/403/..., 408 timeout, 503).
   */
  async register(account: SipAccountConfig, expires = 3600): Promise<SipRegistration> {
    if (this.#closed) throw new SipRequestError(503, 'Service Unavailable', 'user agent closed');
    const reg = await SipRegistration.create(this.#core, account, expires);
    this.#registrations.add(reg);
    return reg;
  }

  /** Places a call. The call starts by itself; listen to its events right away. */
  invite(o: SipInviteOptions): SipClientCall {
    const call = new SipClientCall(this.#core, o);
    this.#placed++;
    this.#calls.add(call);
    const forget = (): void => {
      this.#calls.delete(call);
    };
    call.on('rejected', forget);
    call.on('terminated', forget);
    // After close() the INVITE cannot be sent: the call is rejected with 503 by itself.
    return call;
  }

  /**
   * Hangs up live calls and removes registrations (waiting at most 2 s for both), then stops
   * every timer and closes the sockets.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending: Array<Promise<unknown>> = [];
    for (const call of this.#calls) {
      if (call.state === 'terminated') continue;
      pending.push(new Promise<void>((resolve) => {
        call.once('terminated', () => resolve());
        call.once('rejected', () => resolve());
      }));
      call.hangup();
    }
    for (const reg of this.#registrations) pending.push(reg.unregister().catch(() => undefined));
    if (pending.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
    }
    this.#core.shutdownAll('user agent closed');
    this.#transactions.close();
    await this.#transport.close();
  }
}
