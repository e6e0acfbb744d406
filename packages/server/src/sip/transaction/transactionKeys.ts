/**
 * Transaction matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests).
 */
import { getParam, isRfc3261Branch, parseCSeq, parseNameAddr, type SipRequest, type SipResponse } from '../message/index.js';
import { SIP_DEFAULT_PORT, topVia } from '../transport/viaRouting.js';

/**
 * Key of the client transaction a response belongs to: top Via branch plus CSeq method (the
 * method matters because a CANCEL shares its INVITE's branch). Undefined when unmatched-able.
 */
export function clientKeyOfResponse(res: SipResponse): string | undefined {
  const branch = topVia(res)?.branch;
  let method: string;
  try {
    method = parseCSeq(res.headers.get('CSeq') ?? '').method;
  } catch {
    return undefined;
  }
  return branch === undefined ? undefined : clientKey(branch, method);
}

/** Key of a client transaction we created with `branch` for `method`. */
export function clientKey(branch: string, method: string): string {
  return `${branch}\u0000${method}`;
}

function fromTag(req: SipRequest): string {
  try {
    return getParam(parseNameAddr(req.headers.get('From') ?? '').params, 'tag')?.value ?? '';
  } catch {
    return '';
  }
}

/**
 * Key of the server transaction a request belongs to. With an RFC 3261 branch: branch, sent-by
 * and method, where ACK counts as INVITE (so the ACK for a non-2xx final response finds its
 * transaction). Otherwise the RFC 2543 fallback of §17.2.3: Request-URI, From tag, Call-ID,
 * CSeq number and the whole top Via. `method` overrides the request's method (CANCEL looks up
 * the INVITE it cancels).
 */
export function serverKey(req: SipRequest, method?: string): string | undefined {
  const via = topVia(req);
  if (via === undefined) return undefined;
  const m = method ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? SIP_DEFAULT_PORT}`;
  if (isRfc3261Branch(via.branch)) return `3261\u0000${via.branch}\u0000${sentBy}\u0000${m}`;
  let seq: number;
  try {
    seq = parseCSeq(req.headers.get('CSeq') ?? '').seq;
  } catch {
    return undefined;
  }
  const rawVia = req.headers.get('Via') ?? '';
  return `2543\u0000${req.uri}\u0000${fromTag(req)}\u0000${req.headers.get('Call-ID') ?? ''}\u0000${seq}\u0000${rawVia}\u0000${m}`;
}
