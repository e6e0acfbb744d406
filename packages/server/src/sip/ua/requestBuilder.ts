/**
 * Construction of outgoing requests (RFC 3261 §8.1.1). The Via is not added here: the
 * transaction layer prepends it together with the branch.
 */
import { SipHeaders, type SipHeader, type SipRequest } from '../message/index.js';

/** Methods this UA accepts inside a dialog (advertised in Allow). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO';

/** Header fields the UA writes itself; callers' extra headers may not replace them. */
export const RESERVED_HEADERS = new Set(
  [
    'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'route', 'record-route',
    'content-length', 'content-type', 'authorization', 'proxy-authorization', 'expires',
  ],
);

/** What {@link buildRequest} needs. */
export interface RequestSpec {
  readonly method: string;
  readonly uri: string;
  /** From value including the tag. */
  readonly from: string;
  /** To value (with the remote tag inside a dialog). */
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  readonly contact?: string;
  /** Route values in order. */
  readonly routes?: readonly string[];
  readonly userAgent?: string;
  /** Further header fields, appended in order (Allow, Expires, credentials, application headers). */
  readonly headers?: readonly SipHeader[];
  readonly body?: Buffer | string;
  readonly contentType?: string;
}

/**
 * Builds a request with Max-Forwards 70 and the mandatory fields. Throws SipFormatError when
 * a value cannot be written (CR/LF from application input, for example).
 */
export function buildRequest(s: RequestSpec): SipRequest {
  const headers = new SipHeaders();
  for (const r of s.routes ?? []) headers.append('Route', r);
  headers.append('Max-Forwards', '70');
  headers.append('From', s.from);
  headers.append('To', s.to);
  headers.append('Call-ID', s.callId);
  headers.append('CSeq', `${s.cseq} ${s.method}`);
  if (s.contact !== undefined) headers.append('Contact', s.contact);
  if (s.userAgent !== undefined) headers.append('User-Agent', s.userAgent);
  for (const h of s.headers ?? []) headers.append(h.name, h.value);
  let body: Buffer = Buffer.alloc(0);
  if (s.body !== undefined) {
    body = typeof s.body === 'string' ? Buffer.from(s.body, 'utf8') : s.body;
    if (s.contentType !== undefined && body.length > 0) headers.append('Content-Type', s.contentType);
  }
  return { kind: 'request', method: s.method, uri: s.uri, headers, body };
}

/** The body of a message as text when it is SDP (Content-Type application/sdp), else undefined. */
export function sdpBody(msg: { headers: SipHeaders; body: Buffer }): string | undefined {
  if (msg.body.length === 0) return undefined;
  const type = (msg.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/sdp' ? msg.body.toString('utf8') : undefined;
}
