/**
 * One registration binding (RFC 3261 §10.2): REGISTER with digest authentication, refresh at
 * 80 % of the expiry the registrar granted, and removal with Expires: 0.
 */
import {
  DigestClient,
  formatNameAddr,
  getParam,
  parseNameAddr,
  parseSipUri,
  type SipHeader,
  type SipResponse,
} from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import type { ClockTimer } from '../transaction/Clock.js';
import { newCallId, newTag } from '../transaction/random.js';
import { unbracket } from '../transport/resolveHost.js';
import { ALLOW, buildRequest } from './requestBuilder.js';
import { requestWithAuth } from './requestWithAuth.js';
import { firstHopOf, parseHostPort, type SipAccountConfig } from './SipAccountConfig.js';
import { SipRequestError } from './SipRequestError.js';
import type { Shutdownable, UaCore } from './UaCore.js';

/** Events of a {@link SipRegistration}. */
export type SipRegistrationEvents = {
  /** A refresh failed; the registration keeps retrying until {@link SipRegistration.unregister}. */
  refreshFailed: [err: SipRequestError];
};

/** Fraction of the granted expiry after which the binding is refreshed. */
const REFRESH_AT = 0.8;

/** A live registration. Obtain one from {@link SipUserAgent.register}. */
export class SipRegistration extends TypedEmitter<SipRegistrationEvents> {
  readonly #core: UaCore;
  readonly #account: SipAccountConfig;
  readonly #requested: number;
  readonly #digest: DigestClient | undefined;
  readonly #callId = newCallId();
  readonly #from: string;
  readonly #to: string;
  readonly #uri: string;
  readonly #contact: string;
  #cseq = 0;
  #expires = 0;
  #timer: ClockTimer | undefined;
  #closed = false;
  #inFlight: Promise<unknown> = Promise.resolve();
  /** How the UA core stops this registration on close; kept off the public surface. */
  readonly #stopper: Shutdownable = { shutdown: () => this.#stop() };

  private constructor(core: UaCore, account: SipAccountConfig, expires: number) {
    super();
    this.#core = core;
    this.#account = account;
    this.#requested = expires;
    this.#digest =
      account.password === undefined ? undefined : new DigestClient({ username: account.authName ?? account.login, password: account.password });
    const aor = core.aor(account);
    this.#from = formatNameAddr({
      ...(account.displayName ? { displayName: account.displayName } : {}),
      uri: aor,
      params: [{ name: 'tag', value: newTag() }],
    });
    this.#to = formatNameAddr({ uri: aor, params: [] });
    const d = parseHostPort(account.domain);
    // The Request-URI names the registrar's domain, without user part (§10.2).
    this.#uri = `sip:${d.host}${d.port !== undefined ? `:${d.port}` : ''}`;
    this.#contact = core.contact(account);
  }

  /**
   * Registers `account` for `expires` seconds. Resolves once a 2xx arrived; rejects with
   * {@link SipRequestError}.
   */
  static async create(core: UaCore, account: SipAccountConfig, expires: number): Promise<SipRegistration> {
    const reg = new SipRegistration(core, account, expires);
    await reg.#register(expires);
    core.addOther(reg.#stopper);
    reg.#schedule();
    return reg;
  }

  /** The expiry (seconds) the registrar granted last time. */
  get expires(): number {
    return this.#expires;
  }

  /** The registered Contact value. */
  get contact(): string {
    return this.#contact;
  }

  /** Stops refreshing and removes the binding (REGISTER with Expires: 0). Rejects with {@link SipRequestError}. */
  async unregister(): Promise<void> {
    if (this.#closed) return;
    this.#stop();
    await this.#inFlight.catch(() => undefined);
    await this.#register(0);
  }

  /** Stops the refresh timer without network traffic. */
  #stop(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#core.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#core.removeOther(this.#stopper);
  }

  #schedule(delayMs = Math.max(500, this.#expires * 1000 * REFRESH_AT)): void {
    if (this.#closed) return;
    this.#timer = this.#core.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#inFlight = this.#register(this.#requested).then(
        () => this.#schedule(),
        (e: unknown) => {
          const err = e instanceof SipRequestError ? e : new SipRequestError(500, 'Server Internal Error', String(e));
          if (this.#closed) return;
          this.#core.log.warn(`registration of ${this.#account.login}: refresh failed: ${err.message}`);
          this.emit('refreshFailed', err);
          // Retry well before the binding would be gone, but without hammering the registrar.
          this.#schedule(Math.min(30_000, Math.max(5_000, this.#expires * 100)));
        },
      );
    }, delayMs);
  }

  /** One REGISTER exchange (with digest retries and one 423 retry). */
  async #register(expires: number): Promise<void> {
    let ask = expires;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.#send(ask);
      if (res.status >= 200 && res.status < 300) {
        if (expires > 0) this.#expires = this.#grantedExpires(res, ask);
        this.#core.log.info(`${expires === 0 ? 'unregistered' : 'registered'} ${this.#account.login} (expires ${expires === 0 ? 0 : this.#expires} s)`);
        return;
      }
      const min = Number(res.headers.get('Min-Expires'));
      if (res.status === 423 && expires > 0 && attempt === 0 && Number.isInteger(min) && min > ask) {
        // Interval Too Brief (§10.2.8): retry once with the registrar's minimum.
        ask = min;
        continue;
      }
      throw new SipRequestError(res.status, res.reason);
    }
    throw new SipRequestError(423, 'Interval Too Brief');
  }

  async #send(expires: number): Promise<SipResponse> {
    let dest;
    try {
      dest = await this.#core.transport.resolve(firstHopOf(this.#account));
    } catch (e) {
      throw new SipRequestError(503, 'Service Unavailable', e instanceof Error ? e.message : String(e));
    }
    return requestWithAuth({
      transactions: this.#core.transactions,
      dest,
      digest: this.#digest,
      build: (credentials: readonly SipHeader[]) =>
        buildRequest({
          method: 'REGISTER',
          uri: this.#uri,
          from: this.#from,
          to: this.#to,
          callId: this.#callId,
          cseq: ++this.#cseq,
          contact: this.#contact,
          userAgent: this.#core.userAgent,
          headers: [{ name: 'Expires', value: String(expires) }, { name: 'Allow', value: ALLOW }, ...credentials],
        }),
    });
  }

  /**
   * The expiry granted to our Contact (§10.2.4): its `expires` parameter in the 2xx, else the
   * Expires header, else what we asked for.
   */
  #grantedExpires(res: SipResponse, asked: number): number {
    let ours: { user?: string; host: string; port: number } | undefined;
    try {
      const u = parseSipUri(parseNameAddr(this.#contact).uri);
      ours = { ...(u.user !== undefined ? { user: u.user } : {}), host: unbracket(u.host).toLowerCase(), port: u.port ?? 5060 };
    } catch {
      ours = undefined;
    }
    for (const value of res.headers.getAll('Contact')) {
      try {
        const na = parseNameAddr(value);
        const u = parseSipUri(na.uri);
        if (ours && u.user === ours.user && unbracket(u.host).toLowerCase() === ours.host && (u.port ?? 5060) === ours.port) {
          const e = Number(getParam(na.params, 'expires')?.value);
          if (Number.isInteger(e) && e > 0) return e;
        }
      } catch {
        // Someone else's odd binding: not ours.
      }
    }
    const header = Number(res.headers.get('Expires'));
    return Number.isInteger(header) && header > 0 ? header : asked;
  }
}
