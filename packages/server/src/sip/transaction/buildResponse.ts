/**
 * Builds a response to a request as a UAS must (RFC 3261 §8.2.6): Via (all, in order), From,
 * Call-ID and CSeq copied, To copied with a tag added when it had none.
 */
import { getParam, parseNameAddr, SipHeaders, type SipRequest, type SipResponse } from '../message/index.js';
import { newTag } from './random.js';

/** Options for {@link buildResponse}. */
export interface ResponseOptions {
  /** Tag to put on To when the request had none (default: a new random tag; never for 100). */
  readonly toTag?: string;
  /** Extra header fields, appended in order. */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /** Body; a string is sent as UTF-8. */
  readonly body?: Buffer | string;
  /** Content-Type of the body. */
  readonly contentType?: string;
  /** Copy Record-Route (a UAS does so in responses that establish a dialog, §12.1.1). */
  readonly copyRecordRoute?: boolean;
}

/** The To tag of a message's To header, or undefined. */
export function toTagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return getParam(parseNameAddr(value).params, 'tag')?.value ?? undefined;
  } catch {
    return undefined;
  }
}

/** Builds `status reason` for `req`. Throws SipFormatError for values that cannot be written. */
export function buildResponse(req: SipRequest, status: number, reason: string, o: ResponseOptions = {}): SipResponse {
  const headers = new SipHeaders();
  for (const v of req.headers.getAll('Via')) headers.append('Via', v);
  if (o.copyRecordRoute) for (const v of req.headers.getAll('Record-Route')) headers.append('Record-Route', v);
  headers.append('From', req.headers.get('From') ?? '');
  const to = req.headers.get('To') ?? '';
  // 100 Trying is hop-by-hop and never creates a dialog, so it gets no tag (§8.2.6.2).
  headers.append('To', status > 100 && toTagOf(to) === undefined ? `${to};tag=${o.toTag ?? newTag()}` : to);
  headers.append('Call-ID', req.headers.get('Call-ID') ?? '');
  headers.append('CSeq', req.headers.get('CSeq') ?? '');
  for (const [name, value] of o.headers ?? []) headers.append(name, value);
  let body: Buffer = Buffer.alloc(0);
  if (o.body !== undefined) {
    body = typeof o.body === 'string' ? Buffer.from(o.body, 'utf8') : o.body;
    if (o.contentType !== undefined) headers.append('Content-Type', o.contentType);
  }
  return { kind: 'response', status, reason, headers, body };
}
