/**
 * The HTTP `Range` header for one byte range (RFC 9110 §14). Multiple ranges are answered with
 * the whole file (a server may ignore Range), as are malformed headers.
 */

/** An inclusive byte range within a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses `Range` against a file of `size` bytes.
 * Returns the range to send (206), `'unsatisfiable'` (416), or undefined (send everything, 200).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined; // malformed, other units, or several ranges
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a.length > 15 || b.length > 15) return 'unsatisfiable';
  if (a === '') {
    // suffix: the last b bytes
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  let end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return undefined; // invalid: ignore the header
  if (start >= size) return 'unsatisfiable';
  if (end >= size) end = size - 1;
  return { start, end };
}
