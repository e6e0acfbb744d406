/**
 * SIP message model and the datagram parser (RFC 3261 §7, §18.3). Stream transports go through
 * {@link SipStreamFramer}, which delimits messages and then calls the same parser.
 */
import { SipParseError } from './errors.js';
import { salvagePartial, splitHeaderSection } from './headerSection.js';
import { MAX_MESSAGE_SIZE } from './limits.js';
import { buildHeaders } from './listSplit.js';
import { parseContentLength } from './scalars.js';
import type { SipHeaders } from './SipHeaders.js';
import { parseStartLine } from './startLine.js';
import { validateHeaders } from './validateMessage.js';

export { serializeSipMessage } from './serialize.js';

/** A SIP request. */
export interface SipRequest {
  readonly kind: 'request';
  /** Method token, case-sensitive ("INVITE"). */
  method: string;
  /** Request-URI text, validated (SIP/SIPS URIs strictly, other schemes as absoluteURI). */
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

/** A SIP response. */
export interface SipResponse {
  readonly kind: 'response';
  /** Status code, 100..699. */
  status: number;
  /** Reason phrase, possibly empty, possibly UTF-8 (RFC 4475 "unreason", "noreason"). */
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

/** Any SIP message. */
export type SipMessage = SipRequest | SipResponse;

/** Options for {@link parseSipMessage}. */
export interface SipParseOptions {
  /**
   * Stream semantics (TCP/TLS/WS framing already done by {@link SipStreamFramer}):
   * Content-Length is mandatory and must equal the body length. Default: datagram semantics.
   */
  readonly stream?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function parseHead(text: string, rest: Buffer, options: SipParseOptions): SipMessage {
  const section = splitHeaderSection(text);
  const start = parseStartLine(section.startLine);
  const headers = buildHeaders(section.fields);
  validateHeaders(start, headers);

  const cl = headers.get('Content-Length');
  let bodyLength: number;
  if (cl === undefined) {
    if (options.stream) throw new SipParseError('Missing Content-Length');
    // RFC 3261 §18.3: over UDP a missing Content-Length means the body runs to the datagram end.
    bodyLength = rest.length;
  } else {
    bodyLength = parseContentLength(cl);
    // A larger value cannot be satisfied (RFC 4475 "clerr"); a smaller one over UDP means the
    // extra octets are discarded (RFC 4475 "dblreq"); on streams the framer cut the message.
    if (bodyLength > rest.length) throw new SipParseError('Content-Length Exceeds Message');
    if (options.stream && bodyLength !== rest.length) throw new SipParseError('Content-Length Mismatch');
  }
  // Copy: the input may be a reused receive buffer.
  const body = Buffer.from(rest.subarray(0, bodyLength));

  return start.kind === 'request'
    ? { kind: 'request', method: start.method, uri: start.uri, headers, body }
    : { kind: 'response', status: start.status, reason: start.reason, headers, body };
}

/**
 * Parses one SIP message from `buf` (a whole UDP datagram by default).
 *
 * Leading CRLFs are skipped (RFC 3261 §7.5). Lines must end in CRLF; header folding is undone;
 * compact names are expanded; list fields are split into one entry per value. Requests and
 * responses must carry Via, From, To, Call-ID and CSeq, a request's CSeq method must match
 * its method, and the fields sipcast relies on must be well-formed (see validateMessage.ts).
 *
 * Throws only {@link SipParseError}. For requests the error carries `partial` (Via, From, To,
 * Call-ID, CSeq, method) when they could be salvaged, so a UAS can answer `status reason`.
 */
export function parseSipMessage(buf: Buffer, options: SipParseOptions = {}): SipMessage {
  if (buf.length > MAX_MESSAGE_SIZE) throw new SipParseError('Message Too Large', { status: 513 });
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  if (start >= buf.length) throw new SipParseError('Empty Message');
  const end = buf.indexOf(CRLFCRLF, start);
  const text = buf.toString('utf8', start, end < 0 ? buf.length : end);
  try {
    if (end < 0) throw new SipParseError('Incomplete Header Section');
    return parseHead(text, buf.subarray(end + 4), options);
  } catch (e) {
    // Anything but SipParseError here would be a bug; still honour the contract for callers.
    const err = e instanceof SipParseError ? e : new SipParseError('Malformed Message', { cause: e });
    const partial = err.partial ?? salvagePartial(text);
    if (!partial) throw err;
    throw new SipParseError(err.reason, { status: err.status, partial, cause: err.cause });
  }
}

/** True for a datagram that is only CRLFs: an RFC 5626 keep-alive, not a malformed message. */
export function isKeepAlive(buf: Buffer): boolean {
  if (buf.length === 0 || buf.length % 2 !== 0) return false;
  for (let i = 0; i < buf.length; i += 2) if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) return false;
  return true;
}
