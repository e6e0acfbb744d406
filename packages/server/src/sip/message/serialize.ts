/**
 * SIP message serializer: CRLF line ends, full header names, Content-Length always written
 * (last, from the actual body length, replacing any stored value).
 */
import { SipFormatError } from './errors.js';
import { isCtl, isToken } from './grammar.js';
import { MAX_METHOD_LENGTH } from './limits.js';
import type { SipMessage } from './SipMessage.js';
import { SIP_VERSION } from './startLine.js';

function checkText(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) throw new SipFormatError(`CR or LF in ${what}`);
  }
}

/**
 * Serializes `msg`. Throws {@link SipFormatError} when the start line cannot be written
 * (bad method token, whitespace or controls in the Request-URI, status outside 100..699, CR/LF
 * in the reason) or a header would break framing.
 */
export function serializeSipMessage(msg: SipMessage): Buffer {
  let head: string;
  if (msg.kind === 'request') {
    if (msg.method.length > MAX_METHOD_LENGTH || !isToken(msg.method)) throw new SipFormatError('Invalid method');
    if (msg.uri.length === 0 || /[\s<>"]/.test(msg.uri) || [...msg.uri].some((ch) => isCtl(ch.charCodeAt(0)))) {
      throw new SipFormatError('Invalid Request-URI');
    }
    head = `${msg.method} ${msg.uri} ${SIP_VERSION}\r\n`;
  } else {
    if (!Number.isInteger(msg.status) || msg.status < 100 || msg.status > 699) throw new SipFormatError('Invalid status');
    checkText(msg.reason, 'reason phrase');
    head = `${SIP_VERSION} ${msg.status} ${msg.reason}\r\n`;
  }
  for (const h of msg.headers) {
    if (h.name.toLowerCase() === 'content-length') continue;
    checkText(h.value, h.name);
    head += `${h.name}: ${h.value}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), msg.body]);
}
