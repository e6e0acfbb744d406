/**
 * `;name=value` parameters as used after name-addr, Via and most other structured header values
 * (RFC 3261 `generic-param`), and after the host of a SIP URI (`uri-parameter`, see SipUri.ts).
 */
import { SipFormatError, SipParseError } from './errors.js';
import { isTokenChar, isWsp, quoteString, readQuotedString, scanToken, skipWsp } from './grammar.js';
import { MAX_PARAMS } from './limits.js';

/** One parameter. `value` is null for a flag parameter such as `;lr` or `;rport`. */
export interface Param {
  readonly name: string;
  readonly value: string | null;
  /** The value was (and will be written as) a quoted-string; `value` holds it unescaped. */
  readonly quoted?: boolean;
}

/** True for a character allowed in an unquoted `gen-value` (`token` or `host`, incl. IPv6). */
function isGenValueChar(c: number): boolean {
  return isTokenChar(c) || c === 0x3a || c === 0x5b || c === 0x5d;
}

/**
 * Parses `*( SEMI generic-param )` from index `i` to the end of `s`, allowing the LWS that
 * RFC 3261 permits around `;` and `=` (RFC 4475 "wsinv"). Throws on empty parameters
 * (`;;`, RFC 4475 "badinv01"), missing values after `=`, or trailing garbage.
 */
export function parseParamList(s: string, i: number): Param[] {
  const params: Param[] = [];
  i = skipWsp(s, i);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b) throw new SipParseError('Invalid Parameter');
    i = skipWsp(s, i + 1);
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) throw new SipParseError('Invalid Parameter');
    const name = s.slice(i, nameEnd);
    i = skipWsp(s, nameEnd);
    let value: string | null = null;
    let quoted = false;
    if (s.charCodeAt(i) === 0x3d) {
      i = skipWsp(s, i + 1);
      if (s.charCodeAt(i) === 0x22) {
        const q = readQuotedString(s, i);
        if (!q) throw new SipParseError('Invalid Parameter');
        value = q.value;
        quoted = true;
        i = q.end;
      } else {
        const start = i;
        while (i < s.length && isGenValueChar(s.charCodeAt(i))) i++;
        if (i === start) throw new SipParseError('Invalid Parameter');
        value = s.slice(start, i);
      }
      i = skipWsp(s, i);
    }
    if (params.length >= MAX_PARAMS) throw new SipParseError('Too Many Parameters');
    params.push(quoted ? { name, value, quoted } : { name, value });
  }
  return params;
}

/**
 * The parameters of a header value of the common shape `main *( ;param )`, e.g.
 * `<sip:a@b;lr>;tag=x` → tag, `application/sdp;charset=utf-8` → charset, `1800;refresher=uac`.
 * Semicolons inside quoted strings and `<...>` do not count. Throws {@link SipParseError} when
 * the parameter part is malformed.
 */
export function headerParams(value: string): Param[] {
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (inAngle) {
      if (c === 0x3e) inAngle = false;
    } else if (c === 0x3c) inAngle = true;
    else if (c === 0x3b) return parseParamList(value, i);
  }
  return [];
}

/** The first parameter called `name` (case-insensitive), or undefined. */
export function getParam(params: readonly Param[], name: string): Param | undefined {
  const key = name.toLowerCase();
  return params.find((p) => p.name.toLowerCase() === key);
}

/** Writes parameters as `;name` / `;name=value`, quoting values that are not plain tokens. */
export function formatParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) {
    if (scanToken(p.name, 0) !== p.name.length || p.name.length === 0) {
      throw new SipFormatError('Invalid parameter name');
    }
    out += `;${p.name}`;
    if (p.value === null) continue;
    let plain = !p.quoted && p.value.length > 0;
    for (let i = 0; plain && i < p.value.length; i++) plain = isGenValueChar(p.value.charCodeAt(i));
    out += `=${plain ? p.value : quoteString(p.value)}`;
  }
  return out;
}

/** True when `s` has no whitespace (used to reject LWS where the grammar allows none). */
export function hasWsp(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isWsp(s.charCodeAt(i))) return true;
  return false;
}
