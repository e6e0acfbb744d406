/**
 * Non-INVITE requests as the UA core sends them: one client transaction per attempt, answering
 * 401/407 digest challenges (RFC 3261 §22.2) with a rebuilt request (new CSeq, same Call-ID
 * and From tag) until a final non-challenge response arrives.
 */
import { DigestAuthError, type DigestClient, type SipHeader, type SipRequest, type SipResponse } from '../message/index.js';
import type { ClientTransaction, TransactionManager } from '../transaction/TransactionManager.js';
import type { SipEndpoint } from '../transport/types.js';
import { SipRequestError } from './SipRequestError.js';

/** Most challenges answered for one request (stale nonces included). */
const MAX_AUTH_ROUNDS = 5;

/**
 * Resolves with the final response of `tx`; provisionals are ignored. Rejects with
 * {@link SipRequestError} 408 on timeout and 503 on a transport failure.
 */
export function finalResponse(tx: ClientTransaction): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    tx.on('response', (res) => {
      if (res.status >= 200) resolve(res);
    });
    tx.on('timeout', () => reject(new SipRequestError(408, 'Request Timeout', `no response to ${tx.request.method}`)));
    tx.on('transportError', (err) => reject(new SipRequestError(503, 'Service Unavailable', err.message)));
  });
}

/**
 * Computes credentials for a challenge, turning digest failures (wrong password, malformed or
 * unsupported challenge, no password configured) into a {@link SipRequestError} carrying the
 * challenge's status.
 */
export function answerChallenge(digest: DigestClient | undefined, res: SipResponse, req: SipRequest): SipHeader[] {
  if (digest === undefined) throw new SipRequestError(res.status, res.reason, 'authentication required but no password configured');
  try {
    return digest.respond(res, req);
  } catch (e) {
    if (e instanceof DigestAuthError) throw new SipRequestError(res.status, res.reason, `${e.code}: ${e.message}`);
    throw e;
  }
}

/** Options for {@link requestWithAuth}. */
export interface AuthRequestOptions {
  readonly transactions: TransactionManager;
  readonly dest: SipEndpoint;
  readonly digest: DigestClient | undefined;
  /** Builds a fresh request (with a new CSeq) carrying `credentials`. */
  readonly build: (credentials: readonly SipHeader[]) => SipRequest;
}

/**
 * Sends a non-INVITE request, answering challenges. Resolves with the final response (any
 * status other than an answerable 401/407); rejects with {@link SipRequestError} for timeouts
 * (408), transport errors (503) and authentication failures (401/407).
 */
export async function requestWithAuth(o: AuthRequestOptions): Promise<SipResponse> {
  let credentials: readonly SipHeader[] = [];
  for (let round = 0; ; round++) {
    const req = o.build(credentials);
    let tx: ClientTransaction;
    try {
      tx = o.transactions.sendRequest(req, o.dest);
    } catch (e) {
      // The user agent was closed meanwhile.
      throw new SipRequestError(503, 'Service Unavailable', e instanceof Error ? e.message : String(e));
    }
    const res = await finalResponse(tx);
    if (res.status !== 401 && res.status !== 407) return res;
    if (round >= MAX_AUTH_ROUNDS) throw new SipRequestError(res.status, res.reason, 'too many authentication rounds');
    credentials = answerChallenge(o.digest, res, req);
  }
}
