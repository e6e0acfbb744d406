/**
 * Stateless error responses to requests that failed to parse (RFC 3261 §8.2.6, §21.4.1), built
 * from what {@link SipParseError.partial} could salvage. The salvaged values may be malformed;
 * they are copied verbatim because the peer matches the response by its own Via and CSeq.
 */
import { randomBytes } from 'node:crypto';
import { SipHeaders, type SipParseError, type SipResponse } from '../message/index.js';

/**
 * The `status reason` response to a broken request, or null when none can be built: the error
 * has no salvaged parts, the message was not a request, it was an ACK (never answered), or Via,
 * CSeq or Call-ID is missing (the peer could not match the response anyway).
 */
export function buildParseErrorResponse(err: SipParseError, serverName?: string): SipResponse | null {
  const p = err.partial;
  if (p === undefined || p.method === undefined || p.method === 'ACK') return null;
  if (p.via.length === 0 || p.cseq === undefined || p.callId === undefined) return null;
  if (/\bACK\s*$/i.test(p.cseq)) return null;
  try {
    const headers = new SipHeaders();
    for (const v of p.via) headers.append('Via', v);
    if (p.from !== undefined) headers.append('From', p.from);
    if (p.to !== undefined) {
      // A UAS adds a To tag to every final response (§8.2.6.2); keep an existing one.
      headers.append('To', /;\s*tag\s*=/i.test(p.to) ? p.to : `${p.to};tag=${randomBytes(6).toString('hex')}`);
    }
    headers.append('Call-ID', p.callId);
    headers.append('CSeq', p.cseq);
    if (serverName !== undefined) headers.append('Server', serverName);
    return { kind: 'response', status: err.status, reason: err.reason, headers, body: Buffer.alloc(0) };
  } catch {
    // A salvaged value that cannot even be written (it would break framing): drop instead.
    return null;
  }
}
