/**
 * Client-side digest state for one SIP account: answers 401/407 challenges, remembers the
 * nonce per realm so nonce counts increase, and tells a wrong password apart from a stale nonce.
 */
import { randomBytes } from 'node:crypto';
import {
  DigestAuthError,
  buildDigestAuthorization,
  isSupportedChallenge,
  parseDigestChallenges,
  parseDigestCredentials,
  selectDigestChallenge,
  type DigestChallenge,
} from './DigestAuth.js';
import type { SipHeader, SipHeaders } from './SipHeaders.js';

/** Account credentials. `username` is the auth name, which may differ from the From user. */
export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
  /** Only answer challenges for this realm (default: any realm). */
  readonly realm?: string;
}

/** The request a challenge answered, or a new request to authorize. */
export interface DigestRequest {
  readonly method: string;
  /** Request-URI exactly as sent (the digest-uri). */
  readonly uri: string;
  /** The request's headers: tells whether it already carried our credentials. */
  readonly headers: SipHeaders;
  readonly body?: Buffer;
}

/** The 401/407 being answered. */
export interface DigestChallengeResponse {
  readonly status: number;
  readonly headers: SipHeaders;
}

/** Options for {@link DigestClient}. */
export interface DigestClientOptions {
  /** How many stale=true challenges in a row are followed before giving up (default 3). */
  readonly maxStaleRetries?: number;
  /** cnonce generator (tests); default 16 random bytes in hex. */
  readonly cnonce?: () => string;
}

interface RealmState {
  challenge: DigestChallenge;
  /** Nonce count last used with `challenge.nonce`. */
  nc: number;
  header: 'Authorization' | 'Proxy-Authorization';
  staleRetries: number;
}

/**
 * Digest client for one set of credentials. The password lives in a private field and is
 * never part of any string, JSON or inspect output this object produces.
 */
export class DigestClient {
  readonly #username: string;
  readonly #password: string;
  readonly #realm: string | undefined;
  readonly #maxStale: number;
  readonly #cnonce: () => string;
  readonly #realms = new Map<string, RealmState>();

  constructor(credentials: DigestCredentials, options: DigestClientOptions = {}) {
    this.#username = credentials.username;
    this.#password = credentials.password;
    this.#realm = credentials.realm;
    this.#maxStale = options.maxStaleRetries ?? 3;
    this.#cnonce = options.cnonce ?? ((): string => randomBytes(16).toString('hex'));
  }

  /** The auth user name. */
  get username(): string {
    return this.#username;
  }

  /**
   * Answers a 401 (WWW-Authenticate → Authorization) or 407 (Proxy-Authenticate →
   * Proxy-Authorization) to `request`, returning one header per challenging realm, each for the
   * strongest supported challenge of that realm. Add them to the retried request (new CSeq).
   *
   * A `stale=true` challenge is a retry with the new nonce, not a failure (up to
   * `maxStaleRetries` in a row). A challenge that is not stale for a realm whose credentials
   * `request` already carried (same nonce or not) means the credentials were refused.
   *
   * Throws {@link DigestAuthError}: missing-challenge, malformed-challenge,
   * unsupported-challenge, rejected, stale-loop, invalid-input.
   */
  respond(response: DigestChallengeResponse, request: DigestRequest): SipHeader[] {
    const proxy = response.status === 407;
    if (!proxy && response.status !== 401) throw new DigestAuthError('invalid-input', 'not a 401/407 response');
    const header = proxy ? 'Proxy-Authorization' : 'Authorization';
    let challenges = parseDigestChallenges(response.headers.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate'));
    if (this.#realm !== undefined) {
      challenges = challenges.filter((c) => c.realm === this.#realm);
      if (challenges.length === 0) throw new DigestAuthError('unsupported-challenge', 'no challenge for the configured realm');
    }

    // One answer per realm (RFC 3261 §22.3): a forking proxy may aggregate several.
    const byRealm = new Map<string, DigestChallenge[]>();
    for (const c of challenges) {
      const list = byRealm.get(c.realm);
      if (list) list.push(c);
      else byRealm.set(c.realm, [c]);
    }
    const chosen: DigestChallenge[] = [];
    for (const list of byRealm.values()) {
      if (list.some(isSupportedChallenge)) chosen.push(selectDigestChallenge(list));
    }
    if (chosen.length === 0) selectDigestChallenge(challenges); // throws unsupported-challenge

    const sent = this.#sentRealms(request.headers, header);
    const out: SipHeader[] = [];
    for (const challenge of chosen) {
      const prev = this.#realms.get(challenge.realm);
      let staleRetries = 0;
      if (sent.has(challenge.realm)) {
        if (!challenge.stale) {
          this.#realms.delete(challenge.realm);
          throw new DigestAuthError('rejected', `credentials rejected for realm "${challenge.realm}"`);
        }
        staleRetries = (prev?.staleRetries ?? 0) + 1;
        if (staleRetries > this.#maxStale) {
          this.#realms.delete(challenge.realm);
          throw new DigestAuthError('stale-loop', `too many stale nonces for realm "${challenge.realm}"`);
        }
      }
      const state: RealmState = { challenge, nc: 0, header, staleRetries };
      this.#realms.set(challenge.realm, state);
      out.push(this.#answer(state, request));
    }
    return out;
  }

  /**
   * Credentials for a new request from the nonces already known (pre-emptive authorization,
   * e.g. a REGISTER refresh), with the nonce count incremented. Empty when nothing is cached.
   */
  authorize(request: Omit<DigestRequest, 'headers'>): SipHeader[] {
    const out: SipHeader[] = [];
    for (const state of this.#realms.values()) {
      if (state.nc >= 0xffffffff) continue;
      out.push(this.#answer(state, request));
    }
    return out;
  }

  /** Drops cached nonces (all, or one realm's). */
  forget(realm?: string): void {
    if (realm === undefined) this.#realms.clear();
    else this.#realms.delete(realm);
  }

  /** JSON form without the password. */
  toJSON(): { username: string; realms: string[] } {
    return { username: this.#username, realms: [...this.#realms.keys()] };
  }

  /** util.inspect form without the password. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DigestClient { username: ${JSON.stringify(this.#username)} }`;
  }

  #answer(state: RealmState, request: Omit<DigestRequest, 'headers'>): SipHeader {
    state.nc += 1;
    const value = buildDigestAuthorization(state.challenge, {
      username: this.#username,
      password: this.#password,
      method: request.method,
      uri: request.uri,
      ...(request.body ? { body: request.body } : {}),
      nc: state.nc,
      cnonce: this.#cnonce(),
    });
    return { name: state.header, value };
  }

  /** Realms for which `headers` already carry Digest credentials in field `name`. */
  #sentRealms(headers: SipHeaders, name: string): Set<string> {
    const realms = new Set<string>();
    for (const v of headers.getAll(name)) {
      try {
        realms.add(parseDigestCredentials(v).realm);
      } catch {
        // Foreign or broken credentials are not ours; ignore them.
      }
    }
    return realms;
  }
}
