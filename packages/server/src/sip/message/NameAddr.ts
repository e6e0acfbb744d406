/**
 * `name-addr` / `addr-spec` with header parameters, the value shape of From, To, Contact,
 * Route, Record-Route, Reply-To and friends (RFC 3261 §20.10, §25.1).
 */
import { SipFormatError, SipParseError } from './errors.js';
import { isTokenChar, isWsp, quoteString, readQuotedString, skipWsp } from './grammar.js';
import { formatParams, hasWsp, parseParamList, type Param } from './params.js';
import { validateUri } from './SipUri.js';

/** A parsed address with its header parameters (`;tag=`, `;expires=`, `;q=`...). */
export interface NameAddr {
  /** Display name, unquoted and unescaped; absent when none was given. */
  readonly displayName?: string;
  /** The URI text, validated (SIP/SIPS strictly, other schemes as absoluteURI). */
  readonly uri: string;
  /** Header parameters in order. In addr-spec form every `;param` belongs here (RFC 4475 "cparam01"). */
  readonly params: readonly Param[];
}

/** Options for {@link parseNameAddr}. */
export interface ParseNameAddrOptions {
  /** Demand the `<...>` form (Route, Record-Route). */
  readonly requireAngle?: boolean;
}

function fail(): never {
  throw new SipParseError('Invalid Address');
}

function checkUri(uri: string): void {
  try {
    validateUri(uri);
  } catch {
    fail();
  }
}

/**
 * Parses one address (already split from any comma-separated list). Throws
 * {@link SipParseError}("Invalid Address") for an unterminated quoted display name
 * ("quotbal"), unquoted non-token display names such as `Bell, Alexander` ("baddn"), LWS inside
 * `<...>` ("badaspec"), `?`, `,` in an unbracketed URI ("regbadct") and malformed parameters.
 */
export function parseNameAddr(value: string, options: ParseNameAddrOptions = {}): NameAddr {
  const s = value;
  let i = skipWsp(s, 0);
  let displayName: string | undefined;
  let angle = false;

  if (s.charCodeAt(i) === 0x22) {
    const q = readQuotedString(s, i) ?? fail();
    displayName = q.value;
    i = skipWsp(s, q.end);
    if (s.charCodeAt(i) !== 0x3c) fail();
    angle = true;
  } else {
    // display-name = *(token LWS): scan tokens and whitespace; only '<' can end them. Non-ASCII
    // is tolerated in unquoted names because deployed UAs send it and it cannot be ambiguous.
    let j = i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (!isTokenChar(c) && !isWsp(c) && c < 0x80) break;
      j++;
    }
    if (s.charCodeAt(j) === 0x3c) {
      const name = s.slice(i, j).trim();
      if (name.length > 0) displayName = name.replace(/[ \t]+/g, ' ');
      i = j;
      angle = true;
    }
  }

  let uri: string;
  if (angle) {
    const close = s.indexOf('>', i + 1);
    if (close < 0) fail();
    uri = s.slice(i + 1, close);
    // LAQUOT/RAQUOT allow no LWS inside the brackets (RFC 4475 "badaspec").
    if (uri.length === 0 || hasWsp(uri)) fail();
    i = close + 1;
  } else {
    if (options.requireAngle) fail();
    let j = i;
    while (j < s.length && s.charCodeAt(j) !== 0x3b && !isWsp(s.charCodeAt(j))) j++;
    uri = s.slice(i, j);
    // Outside <> a URI cannot contain ',', '?' or ';' (RFC 3261 §20.10).
    if (uri.length === 0 || /[,?]/.test(uri)) fail();
    i = j;
  }
  checkUri(uri);

  let params: Param[];
  try {
    params = parseParamList(s, i);
  } catch {
    fail();
  }
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

/** Writes an address in `<...>` form (always safe), quoting any display name. */
export function formatNameAddr(na: NameAddr): string {
  try {
    validateUri(na.uri);
  } catch {
    throw new SipFormatError('Invalid URI in address');
  }
  const dn = na.displayName !== undefined && na.displayName.length > 0 ? `${quoteString(na.displayName)} ` : '';
  return `${dn}<${na.uri}>${formatParams(na.params)}`;
}
