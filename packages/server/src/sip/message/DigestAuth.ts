/**
 * HTTP Digest for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): challenge parsing and
 * selection, response computation and Authorization/Proxy-Authorization values.
 * Every failure is a {@link DigestAuthError}; nothing here logs or returns the password.
 */
import { createHash, getHashes } from 'node:crypto';
import { parseAuthItems, type AuthItem } from './authParams.js';
import { DigestAuthError } from './DigestAuthError.js';

export { DigestAuthError, type DigestAuthErrorCode } from './DigestAuthError.js';

/** Algorithms sipcast can answer. SHA-512-256 only where the local OpenSSL provides it. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** A parsed Digest challenge (one WWW-Authenticate/Proxy-Authenticate item). */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly stale: boolean;
  /** Algorithm as offered (canonical spelling when known); "MD5" when absent. */
  readonly algorithm: string;
  /** Offered qop values, lower-cased; empty for an RFC 2069 challenge without qop. */
  readonly qop: readonly string[];
  /** RFC 7616 userhash=true: send H(username:realm) instead of the name. */
  readonly userhash: boolean;
}

/** Inputs of {@link computeDigestResponse}. */
export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly password: string;
  readonly realm: string;
  readonly nonce: string;
  readonly method: string;
  /** The digest-uri: for SIP, the Request-URI exactly as sent. */
  readonly uri: string;
  /** Absent for RFC 2069 mode (no qop in the challenge). */
  readonly qop?: 'auth' | 'auth-int';
  readonly cnonce?: string;
  /** Nonce count as 8 lowercase hex digits. */
  readonly nc?: string;
  /** Request body, hashed for qop=auth-int. */
  readonly body?: Buffer;
}

const HASH: Readonly<Record<string, string>> = {
  md5: 'md5',
  'sha-256': 'sha256',
  'sha-512-256': 'sha512-256',
};

const CANONICAL_ALGORITHMS: readonly DigestAlgorithm[] = [
  'MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess',
];

const AVAILABLE = new Set(getHashes());

/** Strength rank of the hash behind an algorithm; 0 when unsupported here. */
function rank(algorithm: string): number {
  const base = algorithm.toLowerCase().replace(/-sess$/, '');
  const hash = HASH[base];
  if (hash === undefined || !AVAILABLE.has(hash)) return 0;
  return base === 'md5' ? 1 : base === 'sha-256' ? 2 : 3;
}

function h(algorithm: DigestAlgorithm, data: string | Buffer): string {
  const hash = HASH[algorithm.toLowerCase().replace(/-sess$/, '')] ?? 'md5';
  return createHash(hash).update(data).digest('hex');
}

/**
 * Computes the `response` value (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1; RFC 2069 when `qop` is
 * absent). Strings are hashed as UTF-8, so any credential characters work.
 */
export function computeDigestResponse(p: DigestResponseInput): string {
  const sess = p.algorithm.endsWith('-sess');
  if ((sess || p.qop) && (p.cnonce === undefined || p.nc === undefined)) {
    throw new DigestAuthError('invalid-input', 'cnonce and nc are required with qop or -sess');
  }
  let ha1 = h(p.algorithm, `${p.username}:${p.realm}:${p.password}`);
  if (sess) ha1 = h(p.algorithm, `${ha1}:${p.nonce}:${p.cnonce}`);
  const a2 = p.qop === 'auth-int'
    ? `${p.method}:${p.uri}:${h(p.algorithm, p.body ?? Buffer.alloc(0))}`
    : `${p.method}:${p.uri}`;
  const ha2 = h(p.algorithm, a2);
  return p.qop
    ? h(p.algorithm, `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`)
    : h(p.algorithm, `${ha1}:${p.nonce}:${ha2}`);
}

function digestChallengeOf(item: AuthItem): DigestChallenge {
  const seen = new Map<string, string>();
  for (const p of item.params) {
    // RFC 7235 §2.1: each parameter name only once per challenge.
    if (seen.has(p.name)) throw new DigestAuthError('malformed-challenge', `duplicate "${p.name}" in challenge`);
    seen.set(p.name, p.value);
  }
  const realm = seen.get('realm');
  const nonce = seen.get('nonce');
  if (realm === undefined) throw new DigestAuthError('malformed-challenge', 'challenge without realm');
  if (nonce === undefined || nonce.length === 0) throw new DigestAuthError('malformed-challenge', 'challenge without nonce');
  const alg = seen.get('algorithm') ?? 'MD5';
  const algorithm = CANONICAL_ALGORITHMS.find((a) => a.toLowerCase() === alg.toLowerCase()) ?? alg;
  const qop = (seen.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q.length > 0);
  const opaque = seen.get('opaque');
  return {
    realm,
    nonce,
    ...(opaque !== undefined ? { opaque } : {}),
    stale: (seen.get('stale') ?? '').toLowerCase() === 'true',
    algorithm,
    qop,
    userhash: (seen.get('userhash') ?? '').toLowerCase() === 'true',
  };
}

/**
 * Reads every Digest challenge from the values of WWW-Authenticate or Proxy-Authenticate
 * fields (each value may hold several challenges). Non-Digest schemes are skipped; a broken
 * header or challenge is skipped if another one is usable.
 *
 * Throws {@link DigestAuthError}: "missing-challenge" for no values at all,
 * "malformed-challenge" when no Digest challenge with realm and nonce is present.
 */
export function parseDigestChallenges(values: readonly string[]): DigestChallenge[] {
  if (values.length === 0) throw new DigestAuthError('missing-challenge', 'no authentication challenge in response');
  const out: DigestChallenge[] = [];
  let firstError: DigestAuthError | undefined;
  for (const value of values) {
    try {
      for (const item of parseAuthItems(String(value))) {
        if (item.scheme.toLowerCase() !== 'digest') continue;
        try {
          out.push(digestChallengeOf(item));
        } catch (e) {
          if (e instanceof DigestAuthError) firstError ??= e;
          else throw e;
        }
      }
    } catch (e) {
      if (e instanceof DigestAuthError) firstError ??= e;
      else throw new DigestAuthError('malformed-challenge', 'unreadable authentication header');
    }
  }
  if (out.length === 0) throw firstError ?? new DigestAuthError('malformed-challenge', 'no Digest challenge');
  return out;
}

/** The qop sipcast would use for `c`, null when none fits, undefined for RFC 2069 mode. */
export function chooseQop(c: DigestChallenge): 'auth' | 'auth-int' | null | undefined {
  if (c.qop.length === 0) return c.algorithm.toLowerCase().endsWith('-sess') ? null : undefined;
  if (c.qop.includes('auth')) return 'auth';
  if (c.qop.includes('auth-int')) return 'auth-int';
  return null;
}

/** True when sipcast can answer `c` (known algorithm with an available hash, usable qop). */
export function isSupportedChallenge(c: DigestChallenge): boolean {
  return rank(c.algorithm) > 0 && chooseQop(c) !== null;
}

/**
 * Picks the challenge to answer: the strongest supported hash (SHA-512-256 > SHA-256 > MD5),
 * the earliest among equals. Throws {@link DigestAuthError}("unsupported-challenge").
 */
export function selectDigestChallenge(challenges: readonly DigestChallenge[]): DigestChallenge {
  let best: DigestChallenge | undefined;
  for (const c of challenges) {
    if (isSupportedChallenge(c) && (best === undefined || rank(c.algorithm) > rank(best.algorithm))) best = c;
  }
  if (!best) throw new DigestAuthError('unsupported-challenge', 'no supported Digest algorithm/qop offered');
  return best;
}

/** Quotes for an auth-param; CR/LF cannot be carried and are refused. */
function q(v: string, what: string): string {
  if (/[\r\n]/.test(v)) throw new DigestAuthError('invalid-input', `CR or LF in ${what}`);
  return `"${v.replace(/["\\]/g, '\\$&')}"`;
}

/** RFC 8187 `attr-char`; everything else is percent-encoded in `username*`. */
function extValue(v: string): string {
  let out = "UTF-8''";
  for (const b of Buffer.from(v, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** What {@link buildDigestAuthorization} needs besides the challenge. */
export interface DigestAuthorizationInput {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  readonly body?: Buffer;
  /** Nonce count for this nonce, starting at 1. */
  readonly nc: number;
  readonly cnonce: string;
}

/**
 * Builds the value of an Authorization or Proxy-Authorization field answering `challenge`:
 * username, realm, nonce, uri, response, algorithm, then cnonce/qop/nc when the challenge
 * offered qop, and the opaque value echoed. The username is a quoted-string (with `"` and `\`
 * escaped); only a name with control characters, which no quoted-string can carry, is sent as
 * RFC 7616 `username*`. Throws {@link DigestAuthError}.
 */
export function buildDigestAuthorization(challenge: DigestChallenge, input: DigestAuthorizationInput): string {
  if (!isSupportedChallenge(challenge)) throw new DigestAuthError('unsupported-challenge', 'unsupported Digest challenge');
  if (!Number.isInteger(input.nc) || input.nc < 1 || input.nc > 0xffffffff) {
    throw new DigestAuthError('invalid-input', 'nonce count out of range');
  }
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(input.method)) throw new DigestAuthError('invalid-input', 'invalid method');
  const algorithm = challenge.algorithm as DigestAlgorithm;
  const qop = chooseQop(challenge) ?? undefined;
  const nc = input.nc.toString(16).padStart(8, '0');
  const response = computeDigestResponse({
    algorithm,
    username: input.username,
    password: input.password,
    realm: challenge.realm,
    nonce: challenge.nonce,
    method: input.method,
    uri: input.uri,
    ...(qop ? { qop, cnonce: input.cnonce, nc } : {}),
    ...(input.body ? { body: input.body } : {}),
  });

  const parts: string[] = [];
  if (challenge.userhash) {
    parts.push(`username=${q(h(algorithm, `${input.username}:${challenge.realm}`), 'username')}`, 'userhash=true');
  } else if (/[\x00-\x08\x0a-\x1f\x7f]/.test(input.username)) {
    parts.push(`username*=${extValue(input.username)}`);
  } else {
    parts.push(`username=${q(input.username, 'username')}`);
  }
  parts.push(
    `realm=${q(challenge.realm, 'realm')}`,
    `nonce=${q(challenge.nonce, 'nonce')}`,
    `uri=${q(input.uri, 'uri')}`,
    `response="${response}"`,
    `algorithm=${algorithm}`,
  );
  if (qop) parts.push(`cnonce=${q(input.cnonce, 'cnonce')}`, `qop=${qop}`, `nc=${nc}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${q(challenge.opaque, 'opaque')}`);
  return `Digest ${parts.join(', ')}`;
}

/** Digest credentials as read back from an Authorization value (used by tests and a future UAS). */
export interface DigestCredentialsValue {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: string;
  readonly cnonce?: string;
  readonly nc?: string;
  readonly qop?: string;
  readonly opaque?: string;
  readonly userhash: boolean;
}

function decodeExtValue(v: string): string {
  const m = /^UTF-8'[^']*'(.*)$/i.exec(v);
  if (!m) throw new DigestAuthError('malformed-challenge', 'bad username*');
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    throw new DigestAuthError('malformed-challenge', 'bad username*');
  }
}

/**
 * Parses a Digest Authorization/Proxy-Authorization value. Throws
 * {@link DigestAuthError}("malformed-challenge") when a required parameter is missing.
 */
export function parseDigestCredentials(value: string): DigestCredentialsValue {
  const item = parseAuthItems(value).find((i) => i.scheme.toLowerCase() === 'digest');
  if (!item) throw new DigestAuthError('malformed-challenge', 'no Digest credentials');
  const get = (n: string): string | undefined => item.params.find((p) => p.name === n)?.value;
  const ext = get('username*');
  const username = ext !== undefined ? decodeExtValue(ext) : get('username');
  const realm = get('realm');
  const nonce = get('nonce');
  const uri = get('uri');
  const response = get('response');
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
    throw new DigestAuthError('malformed-challenge', 'incomplete Digest credentials');
  }
  const optional = (['cnonce', 'nc', 'qop', 'opaque'] as const).flatMap((n) => {
    const v = get(n);
    return v === undefined ? [] : [[n, v] as const];
  });
  return {
    username,
    realm,
    nonce,
    uri,
    response,
    algorithm: get('algorithm') ?? 'MD5',
    ...Object.fromEntries(optional),
    userhash: (get('userhash') ?? '').toLowerCase() === 'true',
  };
}
