/**
 * Character classes and small lexing helpers from the RFC 3261 §25 ABNF, shared by the
 * message, URI, Via and digest parsers. All functions work on UTF-16 strings whose SIP-relevant
 * characters are ASCII; anything at or above U+0080 is never a token character.
 */
import { SipFormatError } from './errors.js';

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Lookup table for `token` = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"). */
const TOKEN = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

/** True for a `token` character. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** True when `s` is a non-empty `token`. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** True for an ASCII letter. */
export function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** True for an ASCII decimal digit. */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** True for an ASCII letter or digit. */
export function isAlnum(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}

/** True for a hexadecimal digit, either case. */
export function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** SP or HTAB: the only whitespace left in a header value once folding has been undone. */
export function isWsp(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Index of the first non-SP/HTAB character at or after `i`. */
export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/** `s` without leading and trailing SP/HTAB (String.trim would also eat other Unicode spaces). */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/**
 * `s` without trailing SP/HTAB. A loop, not /[ \t]+$/, which backtracks quadratically on a long
 * run of blanks followed by something else.
 */
export function trimWspEnd(s: string): string {
  let b = s.length;
  while (b > 0 && isWsp(s.charCodeAt(b - 1))) b--;
  return s.slice(0, b);
}

/** True for a character that must never appear raw in a header value: C0 controls but HTAB, and DEL. */
export function isCtl(c: number): boolean {
  return (c < 0x20 && c !== HTAB) || c === 0x7f;
}

/** Index just past the first run of `token` characters at `i` (equal to `i` when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/** Result of {@link readQuotedString}. */
export interface QuotedString {
  /** Contents with quoted-pairs resolved. */
  readonly value: string;
  /** Index just past the closing DQUOTE. */
  readonly end: number;
}

/**
 * Reads a `quoted-string` whose opening DQUOTE is at `i`. Returns null when it is not
 * terminated (RFC 4475 "quotbal"). A backslash always escapes the next character.
 */
export function readQuotedString(s: string, i: number): QuotedString | null {
  if (s.charCodeAt(i) !== DQUOTE) return null;
  let out = '';
  let runStart = i + 1;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === BACKSLASH) {
      if (j + 1 >= s.length) return null;
      out += s.slice(runStart, j) + s[j + 1];
      j++;
      runStart = j + 1;
    } else if (c === DQUOTE) {
      return { value: out + s.slice(runStart, j), end: j + 1 };
    }
  }
  return null;
}

/**
 * Writes `v` as a `quoted-string`, escaping DQUOTE and backslash. CR and LF cannot be carried
 * by a quoted-pair (RFC 3261 §25.1), so they are refused rather than silently dropped.
 */
export function quoteString(v: string): string {
  if (/[\r\n]/.test(v)) throw new SipFormatError('CR or LF cannot be quoted');
  return `"${v.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Splits `s` at `sep` characters that are outside quoted strings and `<...>`, the way RFC 3261
 * §7.3.1 lists combine. Elements are returned untrimmed and may be empty.
 */
export function splitTopLevel(s: string, sep = ','): string[] {
  const sepCode = sep.charCodeAt(0);
  const out: string[] = [];
  let inQuote = false;
  let inAngle = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inQuote) {
      if (c === BACKSLASH) i++;
      else if (c === DQUOTE) inQuote = false;
    } else if (c === DQUOTE) {
      inQuote = true;
    } else if (inAngle) {
      if (c === 0x3e) inAngle = false;
    } else if (c === 0x3c) {
      inAngle = true;
    } else if (c === sepCode) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}
