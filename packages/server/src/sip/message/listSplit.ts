/**
 * Turns raw header lines into {@link SipHeaders}: compact names expanded and list fields split
 * into one entry per value (RFC 3261 §7.3.1).
 */
import { SipParseError } from './errors.js';
import { splitTopLevel, trimWsp } from './grammar.js';
import { headerKey, isListField, STRICT_LIST_FIELDS } from './headerNames.js';
import type { RawField } from './headerSection.js';
import { MAX_HEADERS } from './limits.js';
import { SipHeaders, type SipHeader } from './SipHeaders.js';

/**
 * Builds the header list. Commas inside quoted strings and `<...>` never split (a display name
 * "Bell, Alexander" or a URI parameter stays whole). `Contact: *` is a single value. Empty
 * elements are dropped, except in fields the parser validates (Via, Contact, Route,
 * Record-Route), where they are an error. Throws {@link SipParseError}("Too Many Headers")
 * when splitting exceeds the cap.
 */
export function buildHeaders(fields: readonly RawField[]): SipHeaders {
  const out: SipHeader[] = [];
  const push = (name: string, value: string): void => {
    if (out.length >= MAX_HEADERS) throw new SipParseError('Too Many Headers');
    out.push({ name, value });
  };
  for (const f of fields) {
    const key = headerKey(f.name);
    if (!isListField(key) || f.value.length === 0) {
      push(f.name, f.value);
      continue;
    }
    const strict = STRICT_LIST_FIELDS.has(key);
    for (const part of splitTopLevel(f.value)) {
      const v = trimWsp(part);
      if (v.length > 0 || strict) push(f.name, v);
    }
  }
  return new SipHeaders(out);
}
