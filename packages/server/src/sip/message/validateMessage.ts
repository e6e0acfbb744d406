/**
 * Header checks every parsed SIP message must pass before a transaction layer sees it: the
 * mandatory fields of RFC 3261 §8.1.1, fields that must be unique, and the grammar of the
 * fields sipcast relies on (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact, Route,
 * Record-Route). Other fields are kept verbatim and only checked when used.
 */
import { SipParseError } from './errors.js';
import { SINGLETON_FIELDS, canonicalHeaderName } from './headerNames.js';
import { parseNameAddr } from './NameAddr.js';
import { parseCSeq, parseMaxForwards, isValidCallId } from './scalars.js';
import type { SipHeaders } from './SipHeaders.js';
import type { StartLine } from './startLine.js';
import { parseVia } from './Via.js';

/** Fields both requests and responses must carry (Max-Forwards is optional: RFC 2543 peers). */
const MANDATORY = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;

/** Runs `check` and turns any failure into SipParseError(`Invalid <name>`). */
function field(name: string, check: () => void): void {
  try {
    check();
  } catch {
    throw new SipParseError(`Invalid ${name}`);
  }
}

/**
 * Validates `headers` for a message with start line `start`. Throws {@link SipParseError} with
 * reasons such as "Missing Call-ID", "Multiple CSeq Headers", "Invalid To",
 * "CSeq Method Mismatch".
 */
export function validateHeaders(start: StartLine, headers: SipHeaders): void {
  for (const name of MANDATORY) {
    if (!headers.has(name)) throw new SipParseError(`Missing ${name}`);
  }
  const seen = new Set<string>();
  for (const h of headers) {
    const key = h.name.toLowerCase();
    if (!SINGLETON_FIELDS.has(key)) continue;
    if (seen.has(key)) throw new SipParseError(`Multiple ${canonicalHeaderName(key)} Headers`);
    seen.add(key);
  }

  for (const v of headers.getAll('Via')) field('Via', () => parseVia(v));
  field('From', () => parseNameAddr(headers.get('From') ?? ''));
  field('To', () => parseNameAddr(headers.get('To') ?? ''));
  if (!isValidCallId(headers.get('Call-ID') ?? '')) throw new SipParseError('Invalid Call-ID');
  const cseq = parseCSeq(headers.get('CSeq') ?? '');
  if (start.kind === 'request' && cseq.method !== start.method) {
    throw new SipParseError('CSeq Method Mismatch');
  }
  const maxForwards = headers.get('Max-Forwards');
  if (maxForwards !== undefined) parseMaxForwards(maxForwards);

  const contacts = headers.getAll('Contact');
  if (contacts.includes('*')) {
    if (contacts.length !== 1) throw new SipParseError('Invalid Contact');
  } else {
    for (const c of contacts) field('Contact', () => parseNameAddr(c));
  }
  for (const name of ['Route', 'Record-Route']) {
    for (const r of headers.getAll(name)) field(name, () => parseNameAddr(r, { requireAngle: true }));
  }
}
