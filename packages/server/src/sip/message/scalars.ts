/**
 * Single-valued header fields with a scalar grammar: CSeq, Max-Forwards, Content-Length and
 * Call-ID (RFC 3261 §20.8, §20.16, §20.14, §20.22).
 */
import { SipParseError } from './errors.js';
import { isToken, isWsp, trimWsp } from './grammar.js';
import { MAX_CALL_ID_LENGTH, MAX_METHOD_LENGTH } from './limits.js';

/** A parsed CSeq. */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** Largest CSeq number a receiver accepts: it must fit in 32 bits (RFC 3261 §8.1.1.5). */
const MAX_CSEQ = 0xffffffff;

/**
 * Parses a decimal field with an upper bound, ignoring leading zeros ("0009" in RFC 4475
 * "wsinv"). Returns null for non-digits or values above `max` without building huge numbers.
 */
function boundedInt(s: string, max: number): number | null {
  if (!/^\d+$/.test(s)) return null;
  const digits = s.replace(/^0+(?=\d)/, '');
  if (digits.length > String(max).length) return null;
  const n = Number(digits);
  return n <= max ? n : null;
}

/**
 * Parses `1*DIGIT LWS Method`. Throws {@link SipParseError}("Invalid CSeq") when the number
 * exceeds 2^32-1 (RFC 4475 "scalar02", "scalarlg") or the method is not a bounded token.
 */
export function parseCSeq(value: string): CSeq {
  const v = trimWsp(value);
  let i = 0;
  while (i < v.length && !isWsp(v.charCodeAt(i))) i++;
  const seq = boundedInt(v.slice(0, i), MAX_CSEQ);
  const method = trimWsp(v.slice(i));
  if (seq === null || i === v.length || method.length > MAX_METHOD_LENGTH || !isToken(method)) {
    throw new SipParseError('Invalid CSeq');
  }
  return { seq, method };
}

/** Parses Max-Forwards (0..255). Throws {@link SipParseError}("Invalid Max-Forwards"). */
export function parseMaxForwards(value: string): number {
  const n = boundedInt(trimWsp(value), 255);
  if (n === null) throw new SipParseError('Invalid Max-Forwards');
  return n;
}

/**
 * Parses Content-Length. Negative or non-numeric values (RFC 4475 "ncl") throw
 * {@link SipParseError}("Invalid Content-Length"); the upper bound is checked by the caller.
 */
export function parseContentLength(value: string): number {
  const n = boundedInt(trimWsp(value), Number.MAX_SAFE_INTEGER);
  if (n === null) throw new SipParseError('Invalid Content-Length');
  return n;
}

/** `word` characters besides token ones (RFC 3261 §25.1): ( ) < > : \ " / [ ] ? { } */
const WORD_EXTRA = '()<>:\\"/[]?{}';

function isWord(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) {
    if (!isToken(ch) && !WORD_EXTRA.includes(ch)) return false;
  }
  return true;
}

/** True for a Call-ID of the form `word [ "@" word ]`, bounded in length. */
export function isValidCallId(value: string): boolean {
  if (value.length === 0 || value.length > MAX_CALL_ID_LENGTH) return false;
  const at = value.indexOf('@');
  if (at < 0) return isWord(value);
  return isWord(value.slice(0, at)) && isWord(value.slice(at + 1));
}
