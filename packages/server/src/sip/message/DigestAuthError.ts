/**
 * The one error type of the digest layer. Messages never contain the password.
 */

/** Why digest authentication could not proceed. */
export type DigestAuthErrorCode =
  /** A 401/407 without WWW-Authenticate/Proxy-Authenticate (janus #2419). */
  | 'missing-challenge'
  /** Challenge syntax is broken, or it lacks realm or nonce. */
  | 'malformed-challenge'
  /** Only schemes, algorithms or qop values we do not implement were offered. */
  | 'unsupported-challenge'
  /** The server challenged again although our credentials were in the request: wrong password. */
  | 'rejected'
  /** The server kept answering `stale=true`; giving up instead of looping. */
  | 'stale-loop'
  /** Caller input that cannot be put into a header (CR/LF), or a non-401/407 response. */
  | 'invalid-input';

/** Digest authentication failure. */
export class DigestAuthError extends Error {
  override readonly name = 'DigestAuthError';
  readonly code: DigestAuthErrorCode;

  constructor(code: DigestAuthErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
