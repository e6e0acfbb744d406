/**
 * One-line summaries of SIP messages for logs. Only the start line, Call-ID and CSeq are
 * shown: header values such as Authorization must never reach a log.
 */
import type { SipMessage } from '../message/index.js';

/** "INVITE sip:bob@example.com [CSeq 1 INVITE, Call-ID abc]" or "180 Ringing [...]". */
export function describeMessage(msg: SipMessage): string {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri}` : `${msg.status} ${msg.reason}`;
  return `${start} [CSeq ${msg.headers.get('CSeq') ?? '?'}, Call-ID ${msg.headers.get('Call-ID') ?? '?'}]`;
}

/** The start line of serialized bytes (transactions send pre-serialized retransmittable copies). */
export function startLineOf(data: Buffer): string {
  const end = data.indexOf('\r\n');
  return data.toString('utf8', 0, end < 0 ? Math.min(data.length, 200) : Math.min(end, 200));
}
