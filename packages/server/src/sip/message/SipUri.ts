/**
 * `sip:` / `sips:` URIs (RFC 3261 §19.1, §25.1) and the generic `absoluteURI` check used for
 * other schemes. User, password, parameter and header components are returned unescaped and
 * re-escaped on output, so `sip:%75se%72@h` and `sip:user@h` parse to the same value.
 */
import { SipFormatError, SipParseError } from './errors.js';
import { isAlnum, isAlpha, isDigit, isHexDigit } from './grammar.js';
import { hostKind, parsePort } from './host.js';
import { MAX_PARAMS } from './limits.js';
import type { Param } from './params.js';
import { percentDecode, percentEncode, unreservedPlus, type CharClass } from './percent.js';

/** One `?name=value` header carried inside a URI (RFC 3261 §19.1.1 "headers"). */
export interface UriHeader {
  readonly name: string;
  readonly value: string;
}

/** A parsed SIP or SIPS URI. */
export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** Unescaped user part (may hold `;`, `?`, `/`, even NUL from %00). */
  readonly user?: string;
  /** Unescaped password (deprecated by RFC 3261 but legal). */
  readonly password?: string;
  /** Host as written: domain name, IPv4 address or bracketed IPv6 reference. */
  readonly host: string;
  readonly port?: number;
  /** uri-parameters in order, unescaped (`;lr` has value null). */
  readonly params: readonly Param[];
  /** Escaped headers after `?`, unescaped. */
  readonly headers: readonly UriHeader[];
}

// Raw character sets of RFC 3261 §25.1 (alphanumerics and `mark` are always included).
const USER = unreservedPlus('&=+$,;?/');
const PASSWORD = unreservedPlus('&=+$,');
const PARAM = unreservedPlus('[]/:&+$');
const HEADER = unreservedPlus('[]/?:+$');
/** RFC 2396 `uric` plus the IPv6 brackets of RFC 2732, for non-SIP absolute URIs. */
const URIC = unreservedPlus(';/?:@&=+$,[]');

function fail(): never {
  throw new SipParseError('Invalid URI');
}

function decode(s: string, cls: CharClass): string {
  const v = percentDecode(s, cls);
  return v ?? fail();
}

/** Lower-cased scheme of `uri`, or null when it does not start with a valid `scheme ":"`. */
export function uriScheme(uri: string): string | null {
  const colon = uri.indexOf(':');
  if (colon <= 0 || !isAlpha(uri.charCodeAt(0))) return null;
  for (let i = 1; i < colon; i++) {
    const c = uri.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) return null;
  }
  return uri.slice(0, colon).toLowerCase();
}

/**
 * True when `uri` is a syntactically valid `absoluteURI` of any scheme (RFC 3261 §25.1 via
 * RFC 2396). This is all a parser may demand of an unknown scheme (RFC 4475 "unkscm",
 * "novelsc", "unksm2"); whether the scheme is usable is an application decision (416).
 */
export function isAbsoluteUri(uri: string): boolean {
  const scheme = uriScheme(uri);
  if (scheme === null) return false;
  const rest = uri.slice(scheme.length + 1);
  if (rest.length === 0) return false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 0x25) {
      if (!isHexDigit(rest.charCodeAt(i + 1)) || !isHexDigit(rest.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (!URIC(c)) {
      return false;
    }
  }
  return true;
}

/**
 * Parses a `sip:` or `sips:` URI (scheme case-insensitive). Throws {@link SipParseError}
 * ("Invalid URI") on any deviation from the grammar, including whitespace, an empty user,
 * bad escapes, an invalid host or port, and empty parameters.
 */
export function parseSipUri(s: string): SipUri {
  const m = /^(sips?):/i.exec(s);
  if (!m) fail();
  const scheme = m[1]!.toLowerCase() === 'sips' ? 'sips' : 'sip';
  let rest = s.slice(m[0].length);

  // '@' cannot appear raw anywhere but after the userinfo, so it alone finds the split even
  // though the user part may contain ';', '?' and '/' (RFC 4475 "semiuri", "intmeth").
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (rest.indexOf('@', at + 1) >= 0) fail();
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const userRaw = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (userRaw.length === 0) fail();
    user = decode(userRaw, USER);
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), PASSWORD);
  }

  let i: number;
  if (rest.charCodeAt(0) === 0x5b) {
    i = rest.indexOf(']') + 1;
    if (i === 0) fail();
  } else {
    i = 0;
    while (i < rest.length && !';?:'.includes(rest[i]!)) i++;
  }
  const host = rest.slice(0, i);
  if (hostKind(host) === null) fail();
  let port: number | undefined;
  if (rest.charCodeAt(i) === 0x3a) {
    let j = i + 1;
    while (j < rest.length && isDigit(rest.charCodeAt(j))) j++;
    port = parsePort(rest.slice(i + 1, j)) ?? fail();
    i = j;
  }

  const params: Param[] = [];
  while (rest.charCodeAt(i) === 0x3b) {
    let end = i + 1;
    while (end < rest.length && rest[end] !== ';' && rest[end] !== '?') end++;
    const seg = rest.slice(i + 1, end);
    const eq = seg.indexOf('=');
    const name = decode(eq >= 0 ? seg.slice(0, eq) : seg, PARAM);
    const value = eq >= 0 ? decode(seg.slice(eq + 1), PARAM) : null;
    if (name.length === 0 || value === '' || params.length >= MAX_PARAMS) fail();
    params.push({ name, value });
    i = end;
  }

  const headers: UriHeader[] = [];
  if (i < rest.length) {
    if (rest.charCodeAt(i) !== 0x3f) fail();
    for (const h of rest.slice(i + 1).split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0 || headers.length >= MAX_PARAMS) fail();
      headers.push({ name: decode(h.slice(0, eq), HEADER), value: decode(h.slice(eq + 1), HEADER) });
    }
  }

  return {
    scheme,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    host,
    ...(port !== undefined ? { port } : {}),
    params,
    headers,
  };
}

/** Writes a {@link SipUri}, escaping each component as needed. Throws {@link SipFormatError}. */
export function formatSipUri(u: SipUri): string {
  if (hostKind(u.host) === null) throw new SipFormatError('Invalid URI host');
  let out = `${u.scheme}:`;
  if (u.user !== undefined) {
    if (u.user.length === 0) throw new SipFormatError('Empty URI user');
    out += percentEncode(u.user, USER);
    if (u.password !== undefined) out += `:${percentEncode(u.password, PASSWORD)}`;
    out += '@';
  }
  out += u.host;
  if (u.port !== undefined) {
    if (!Number.isInteger(u.port) || u.port < 0 || u.port > 65535) throw new SipFormatError('Invalid URI port');
    out += `:${u.port}`;
  }
  for (const p of u.params) {
    if (p.name.length === 0) throw new SipFormatError('Empty URI parameter name');
    out += `;${percentEncode(p.name, PARAM)}`;
    if (p.value !== null) out += `=${percentEncode(p.value, PARAM)}`;
  }
  u.headers.forEach((h, n) => {
    out += `${n === 0 ? '?' : '&'}${percentEncode(h.name, HEADER)}=${percentEncode(h.value, HEADER)}`;
  });
  return out;
}

/**
 * Checks URI text found in a header or request line: SIP/SIPS URIs must parse, anything else
 * must be a valid `absoluteURI`. Throws {@link SipParseError}("Invalid URI").
 */
export function validateUri(uri: string): void {
  const scheme = uriScheme(uri);
  if (scheme === 'sip' || scheme === 'sips') parseSipUri(uri);
  else if (!isAbsoluteUri(uri)) fail();
}
