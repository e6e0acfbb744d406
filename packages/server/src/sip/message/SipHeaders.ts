/**
 * Ordered header fields of one SIP message with case-insensitive, compact-form-aware lookup.
 * Order matters in SIP (Via, Route, Record-Route) so this is a list, not a map.
 */
import { SipFormatError } from './errors.js';
import { isToken } from './grammar.js';
import { canonicalHeaderName, headerKey } from './headerNames.js';

/** One header field. Multi-value lines are stored as one entry per value. */
export interface SipHeader {
  /** Full name (compact forms expanded, known names in canonical case). */
  readonly name: string;
  /** Value with folding undone and surrounding whitespace removed. */
  readonly value: string;
}

function entry(name: string, value: string): SipHeader {
  if (!isToken(name)) throw new SipFormatError('Invalid header name');
  // CR or LF in a value would let a caller inject header lines (e.g. via a REST-supplied callee).
  if (/[\r\n]/.test(value)) throw new SipFormatError('CR or LF in header value');
  return { name: canonicalHeaderName(name), value };
}

/** Ordered header list. Mutators validate names and values so nothing unframeable gets in. */
export class SipHeaders implements Iterable<SipHeader> {
  readonly #list: SipHeader[] = [];

  /** Builds a list from entries (names normalised, values validated). */
  constructor(entries: Iterable<SipHeader> = []) {
    for (const h of entries) this.#list.push(entry(h.name, h.value));
  }

  /** Number of entries. */
  get size(): number {
    return this.#list.length;
  }

  /** First value of `name`, or undefined. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.#list.find((h) => h.name.toLowerCase() === key)?.value;
  }

  /** Every value of `name`, in message order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.#list.filter((h) => h.name.toLowerCase() === key).map((h) => h.value);
  }

  /** True when at least one `name` field exists. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Adds a field after all others. */
  append(name: string, value: string): this {
    this.#list.push(entry(name, value));
    return this;
  }

  /** Adds a field before all others (e.g. a new top Via). */
  prepend(name: string, value: string): this {
    this.#list.unshift(entry(name, value));
    return this;
  }

  /** Replaces every `name` field by one, at the position of the first (or at the end). */
  set(name: string, value: string): this {
    const e = entry(name, value);
    const key = headerKey(name);
    const first = this.#list.findIndex((h) => h.name.toLowerCase() === key);
    this.delete(name);
    if (first < 0) this.#list.push(e);
    else this.#list.splice(first, 0, e);
    return this;
  }

  /** Removes every `name` field; returns how many were removed. */
  delete(name: string): number {
    const key = headerKey(name);
    let removed = 0;
    for (let i = this.#list.length - 1; i >= 0; i--) {
      if (this.#list[i]!.name.toLowerCase() === key) {
        this.#list.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Snapshot of all entries in order. */
  entries(): readonly SipHeader[] {
    return [...this.#list];
  }

  /** Copy of this list. */
  clone(): SipHeaders {
    return new SipHeaders(this.#list);
  }

  [Symbol.iterator](): Iterator<SipHeader> {
    return this.entries()[Symbol.iterator]();
  }
}
