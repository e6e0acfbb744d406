/**
 * Splits the header section of a SIP message into its start line and unfolded header fields
 * (RFC 3261 §7.3.1), validating the framing-relevant syntax. Used by both the datagram parser
 * and the stream framer so that both read a header section exactly the same way.
 */
import { SipParseError, type SipParsePartial } from './errors.js';
import { isCtl, isTokenChar, isWsp, splitTopLevel, trimWsp, trimWspEnd } from './grammar.js';
import { headerKey } from './headerNames.js';
import { MAX_HEADER_NAME_LENGTH, MAX_HEADER_VALUE_LENGTH, MAX_HEADERS, MAX_START_LINE_LENGTH } from './limits.js';

/** A header line as received: name unnormalised, value unfolded and trimmed, lists not split. */
export interface RawField {
  readonly name: string;
  readonly value: string;
}

/** The start line and raw fields of a header section. */
export interface HeaderSection {
  readonly startLine: string;
  readonly fields: readonly RawField[];
}

/**
 * Reads `name *(SP/HTAB) ":" value` from one unfolded line. Only token characters may form the
 * name and only SP/HTAB may separate it from the colon: chan_sip once read `To\x01:` as `To:`
 * while proxies saw an unknown header, which allowed unauthenticated calls.
 */
function splitField(line: string): RawField {
  let i = 0;
  while (i < line.length && isTokenChar(line.charCodeAt(i))) i++;
  if (i === 0 || i > MAX_HEADER_NAME_LENGTH) throw new SipParseError('Invalid Header Name');
  const name = line.slice(0, i);
  while (i < line.length && isWsp(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 0x3a) throw new SipParseError('Invalid Header Name');
  const value = trimWsp(line.slice(i + 1));
  if (value.length > MAX_HEADER_VALUE_LENGTH) throw new SipParseError('Header Too Long');
  // Controls are only legal escaped inside a quoted-string (RFC 4475 "intmeth" has "\<NUL>").
  for (let j = 0; j < value.length; j++) {
    if (isCtl(value.charCodeAt(j)) && value.charCodeAt(j - 1) !== 0x5c) {
      throw new SipParseError('Control Character In Header');
    }
  }
  return { name, value };
}

/**
 * Yields logical header lines with folding undone: a line that starts with SP/HTAB continues
 * the previous one, and the CRLF plus surrounding whitespace count as one SP.
 */
function* unfold(lines: readonly string[]): Generator<string> {
  let current: string[] | null = null;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.length > 0 && isWsp(line.charCodeAt(0))) {
      if (current === null) throw new SipParseError('Invalid Header Folding');
      current.push(trimWsp(line));
      continue;
    }
    if (current !== null) yield current.join(' ');
    current = [trimWspEnd(line)];
  }
  if (current !== null) yield current.join(' ');
}

/**
 * Splits decoded header-section text (everything before the empty line, CRLF line ends, no
 * trailing CRLF) into start line and fields. Throws {@link SipParseError} for bare CR or LF,
 * invalid names, control characters, folding before the first field, and exceeded limits.
 */
export function splitHeaderSection(text: string): HeaderSection {
  const lines = text.split('\r\n');
  for (const line of lines) {
    if (line.includes('\r') || line.includes('\n')) throw new SipParseError('Bare CR or LF');
  }
  const startLine = lines[0]!;
  if (startLine.length > MAX_START_LINE_LENGTH) throw new SipParseError('Start Line Too Long');
  const fields: RawField[] = [];
  for (const line of unfold(lines)) {
    if (fields.length >= MAX_HEADERS) throw new SipParseError('Too Many Headers');
    fields.push(splitField(line));
  }
  return { startLine, fields };
}

/** Keeps salvaged values short and free of control characters before they are echoed back. */
function clean(value: string): string | undefined {
  const v = trimWsp(value);
  if (v.length > MAX_HEADER_VALUE_LENGTH) return undefined;
  for (let i = 0; i < v.length; i++) if (isCtl(v.charCodeAt(i))) return undefined;
  return v;
}

/**
 * Leniently extracts what a UAS copies into an error response (RFC 3261 §8.2.6) from header
 * text that failed strict parsing. Never throws; returns undefined when the start line does not
 * look like a request (responses are never answered).
 */
export function salvagePartial(text: string): SipParsePartial | undefined {
  const lines = text.split(/\r\n|\r|\n/);
  const start = lines[0] ?? '';
  if (/^SIP\//i.test(start)) return undefined;
  const sp = start.indexOf(' ');
  const methodRaw = sp > 0 ? start.slice(0, sp) : '';
  const via: string[] = [];
  const out: { method?: string; from?: string; to?: string; callId?: string; cseq?: string } = {};
  let count = 0;
  let current = '';
  const take = (line: string): void => {
    const colon = line.indexOf(':');
    if (colon <= 0 || count++ > MAX_HEADERS) return;
    const key = headerKey(trimWsp(line.slice(0, colon)));
    const value = line.slice(colon + 1);
    if (key === 'via') {
      for (const v of splitTopLevel(value)) {
        const c = clean(v);
        if (c && via.length < MAX_HEADERS) via.push(c);
      }
      return;
    }
    const c = clean(value);
    if (c === undefined) return;
    if (key === 'from' && out.from === undefined) out.from = c;
    else if (key === 'to' && out.to === undefined) out.to = c;
    else if (key === 'call-id' && out.callId === undefined) out.callId = c;
    else if (key === 'cseq' && out.cseq === undefined) out.cseq = c;
  };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.length > 0 && isWsp(line.charCodeAt(0))) {
      if (current.length < MAX_HEADER_VALUE_LENGTH) current += ` ${trimWsp(line)}`;
      continue;
    }
    if (current) take(current);
    current = line;
  }
  if (current) take(current);
  if (methodRaw.length > 0 && methodRaw.length <= 64 && /^[A-Za-z0-9\-.!%*_+`'~]+$/.test(methodRaw)) {
    out.method = methodRaw;
  }
  if (via.length === 0 && Object.keys(out).length === 0) return undefined;
  return { ...out, via };
}
