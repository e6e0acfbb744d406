/**
 * Via header values (RFC 3261 §20.42, §25.1; `rport` from RFC 3581).
 */
import { isIPv6 } from 'node:net';
import { SipFormatError, SipParseError } from './errors.js';
import { isDigit, isToken, isWsp, scanToken, skipWsp } from './grammar.js';
import { hostKind, isIPv4, parsePort } from './host.js';
import { formatParams, getParam, parseParamList, type Param } from './params.js';

/** RFC 3261 magic cookie that starts every RFC 3261-style branch. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** One parsed `via-parm`. */
export interface Via {
  /** Protocol name, upper-cased ("SIP"). */
  readonly protocol: string;
  /** Protocol version as written ("2.0"). */
  readonly version: string;
  /** Transport, upper-cased ("UDP", "TCP", "TLS", "SCTP", "WS", or any token). */
  readonly transport: string;
  /** sent-by host: domain, IPv4 or bracketed IPv6. */
  readonly host: string;
  readonly port?: number;
  /** All parameters in order; the fields below are read from here, and formatVia writes these. */
  readonly params: readonly Param[];
  readonly branch?: string;
  readonly received?: string;
  /** `true` for a bare `;rport` (a request), the port number for `;rport=5060` (a response). */
  readonly rport?: number | true;
  readonly maddr?: string;
  readonly ttl?: number;
}

function fail(): never {
  throw new SipParseError('Invalid Via');
}

/** Reads `SWS "/" SWS` at `i`, returning the index after it. */
function slash(s: string, i: number): number {
  i = skipWsp(s, i);
  if (s.charCodeAt(i) !== 0x2f) fail();
  return skipWsp(s, i + 1);
}

function token(s: string, i: number): [string, number] {
  const end = scanToken(s, i);
  if (end === i) fail();
  return [s.slice(i, end), end];
}

/**
 * Parses one Via value such as `SIP / 2.0 / UDP host:5060;branch=z9hG4bK...;rport`. LWS is
 * accepted around the slashes and colon as the grammar allows (RFC 4475 "wsinv").
 * Throws {@link SipParseError}("Invalid Via").
 */
export function parseVia(value: string): Via {
  const s = value;
  let i = skipWsp(s, 0);
  const [protocol, a] = token(s, i);
  const [version, b] = token(s, slash(s, a));
  const [transport, c] = token(s, slash(s, b));
  i = skipWsp(s, c);
  if (i === c) fail();

  const hostStart = i;
  if (s.charCodeAt(i) === 0x5b) {
    i = s.indexOf(']', i) + 1;
    if (i === 0) fail();
  } else {
    while (i < s.length && !isWsp(s.charCodeAt(i)) && s[i] !== ':' && s[i] !== ';') i++;
  }
  const host = s.slice(hostStart, i);
  if (hostKind(host) === null) fail();

  let port: number | undefined;
  i = skipWsp(s, i);
  if (s.charCodeAt(i) === 0x3a) {
    const start = skipWsp(s, i + 1);
    let end = start;
    while (end < s.length && isDigit(s.charCodeAt(end))) end++;
    port = parsePort(s.slice(start, end)) ?? fail();
    i = end;
  }

  let params: Param[];
  try {
    params = parseParamList(s, i);
  } catch {
    fail();
  }

  const via: { -readonly [K in keyof Via]: Via[K] } = {
    protocol: protocol.toUpperCase(),
    version,
    transport: transport.toUpperCase(),
    host,
    params,
  };
  if (port !== undefined) via.port = port;

  const branch = getParam(params, 'branch');
  if (branch) {
    if (branch.value === null || !isToken(branch.value)) fail();
    via.branch = branch.value;
  }
  const received = getParam(params, 'received');
  if (received) {
    if (received.value === null || !(isIPv4(received.value) || isIPv6(received.value.replace(/^\[(.*)\]$/, '$1')))) fail();
    via.received = received.value;
  }
  const rport = getParam(params, 'rport');
  if (rport) via.rport = rport.value === null ? true : (parsePort(rport.value) ?? fail());
  const maddr = getParam(params, 'maddr');
  if (maddr) {
    if (maddr.value === null || hostKind(maddr.value) === null) fail();
    via.maddr = maddr.value;
  }
  const ttl = getParam(params, 'ttl');
  if (ttl) {
    if (ttl.value === null || !/^\d{1,3}$/.test(ttl.value) || Number(ttl.value) > 255) fail();
    via.ttl = Number(ttl.value);
  }
  return via;
}

/** Writes a Via value from protocol, version, transport, host, port and `params`. */
export function formatVia(v: Pick<Via, 'protocol' | 'version' | 'transport' | 'host' | 'port' | 'params'>): string {
  if (!isToken(v.protocol) || !isToken(v.version) || !isToken(v.transport)) {
    throw new SipFormatError('Invalid Via sent-protocol');
  }
  if (hostKind(v.host) === null) throw new SipFormatError('Invalid Via host');
  let out = `${v.protocol}/${v.version}/${v.transport} ${v.host}`;
  if (v.port !== undefined) {
    if (!Number.isInteger(v.port) || v.port < 0 || v.port > 65535) throw new SipFormatError('Invalid Via port');
    out += `:${v.port}`;
  }
  return out + formatParams(v.params);
}

/**
 * True when `branch` is an RFC 3261 transaction id: the magic cookie plus at least one more
 * character. A bare `z9hG4bK` (RFC 4475 "badbranch") parses but fails this check; a UAS may
 * answer 400 or fall back to RFC 2543 matching.
 */
export function isRfc3261Branch(branch: string | undefined): boolean {
  return branch !== undefined && branch.length > BRANCH_MAGIC_COOKIE.length && branch.startsWith(BRANCH_MAGIC_COOKIE);
}
