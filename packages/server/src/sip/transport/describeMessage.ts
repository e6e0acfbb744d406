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
