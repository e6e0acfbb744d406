/**
 * Request-Line and Status-Line (RFC 3261 §7.1, §7.2, §25.1).
 */
import { SipParseError } from './errors.js';
import { isCtl, isToken } from './grammar.js';
import { MAX_METHOD_LENGTH } from './limits.js';
import { parseSipUri, uriScheme, isAbsoluteUri } from './SipUri.js';

/** The only protocol version sipcast speaks. */
export const SIP_VERSION = 'SIP/2.0';

/** A parsed start line. */
export type StartLine =
  | { readonly kind: 'request'; readonly method: string; readonly uri: string }
  | { readonly kind: 'response'; readonly status: number; readonly reason: string };

/** Checks a `SIP-Version` token: SIP/2.0 passes, another well-formed version is a 505. */
function checkVersion(v: string): void {
  if (v.toUpperCase() === SIP_VERSION) return;
  if (/^SIP\/\d+\.\d+$/i.test(v)) throw new SipParseError('Version Not Supported', { status: 505 });
  throw new SipParseError('Invalid SIP Version');
}

/**
 * Validates a Request-URI. SIP/SIPS URIs must parse and must not carry headers (RFC 3261
 * table 19.1.1, RFC 4475 "escruri"); other schemes need only be absoluteURIs, since answering
 * 416 for them is the application's job (RFC 4475 "unkscm", "novelsc").
 */
function checkRequestUri(uri: string): void {
  const scheme = uriScheme(uri);
  if (scheme === 'sip' || scheme === 'sips') {
    let parsed;
    try {
      parsed = parseSipUri(uri);
    } catch {
      throw new SipParseError('Invalid Request-URI');
    }
    if (parsed.headers.length > 0) throw new SipParseError('Headers In Request-URI');
  } else if (!isAbsoluteUri(uri)) {
    throw new SipParseError('Invalid Request-URI');
  }
}

/**
 * Parses a start line. Exactly one SP separates the request-line elements: doubled SP
 * ("lwsstart"), trailing SP ("trws"), LWS inside the URI ("lwsruri") and `<uri>` ("ltgtruri")
 * are all rejected. A status line may omit the reason phrase and even the SP before it
 * (RFC 4475 "noreason").
 */
export function parseStartLine(line: string): StartLine {
  if (/^SIP\//i.test(line)) {
    const m = /^(\S+) (\d+)(?: (.*))?$/s.exec(line);
    if (!m) throw new SipParseError('Invalid Status Line');
    checkVersion(m[1]!);
    const code = m[2]!;
    if (code.length !== 3 || code < '100' || code > '699') throw new SipParseError('Invalid Status Code');
    const reason = m[3] ?? '';
    for (let i = 0; i < reason.length; i++) {
      if (isCtl(reason.charCodeAt(i))) throw new SipParseError('Invalid Reason Phrase');
    }
    return { kind: 'response', status: Number(code), reason };
  }
  const parts = line.split(' ');
  if (parts.length !== 3) throw new SipParseError('Invalid Request Line');
  const [method, uri, version] = parts as [string, string, string];
  if (method.length > MAX_METHOD_LENGTH || !isToken(method)) throw new SipParseError('Invalid Method');
  checkVersion(version);
  checkRequestUri(uri);
  return { kind: 'request', method, uri };
}
