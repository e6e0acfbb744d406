/**
 * RFC 3261 `escaped` (%XX) handling for URI components. Decoded octets are read as UTF-8;
 * escaped NUL is legal (RFC 4475 "escnull") and kept as U+0000.
 */
import { isAlnum, isHexDigit } from './grammar.js';

/** Characters of RFC 3261 `unreserved` besides alphanumerics (`mark`). */
const MARK = "-_.!~*'()";

/** Predicate deciding which characters a URI component may carry unescaped. */
export type CharClass = (c: number) => boolean;

/** Builds a {@link CharClass}: alphanumerics, `mark`, plus the given extra characters. */
export function unreservedPlus(extra: string): CharClass {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (isAlnum(c)) table[c] = 1;
  for (const ch of MARK + extra) table[ch.charCodeAt(0)] = 1;
  return (c) => c < 128 && table[c] === 1;
}

/**
 * Decodes %XX escapes in `s`. Returns null when `s` holds a character outside `allowed`
 * (other than a well-formed escape) or a `%` not followed by two hex digits.
 */
export function percentDecode(s: string, allowed: CharClass): string | null {
  if (!s.includes('%')) {
    for (let i = 0; i < s.length; i++) if (!allowed(s.charCodeAt(i))) return null;
    return s;
  }
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= s.length) return null;
      const h = s.charCodeAt(i + 1);
      const l = s.charCodeAt(i + 2);
      if (!isHexDigit(h) || !isHexDigit(l)) return null;
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (allowed(c)) {
      bytes.push(c);
    } else {
      return null;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Escapes every UTF-8 octet of `s` that `allowed` does not accept raw. */
export function percentEncode(s: string, allowed: CharClass): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && allowed(c)) {
      out += ch;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}
