/**
 * Header field names: compact forms (RFC 3261 §7.3.3 and later extensions), canonical spelling
 * for output, and which fields are comma-separated lists.
 */

/** Single-letter compact forms and the full names they stand for. */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'Accept-Contact', // RFC 3841
  b: 'Referred-By', // RFC 3892
  c: 'Content-Type',
  d: 'Request-Disposition', // RFC 3841
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact', // RFC 3841
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info', // RFC 4474
  o: 'Event', // RFC 6665
  r: 'Refer-To', // RFC 3515
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events', // RFC 6665
  v: 'Via',
  x: 'Session-Expires', // RFC 4028
  y: 'Identity', // RFC 8224
};

/** Header names sipcast writes with their conventional capitalisation. */
const KNOWN = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow',
  'Allow-Events', 'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact',
  'Content-Disposition', 'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type',
  'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From', 'Identity', 'Identity-Info',
  'In-Reply-To', 'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'Path',
  'P-Asserted-Identity', 'P-Preferred-Identity', 'Priority', 'Proxy-Authenticate',
  'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To',
  'Referred-By', 'Reject-Contact', 'Replaces', 'Reply-To', 'Request-Disposition', 'Require',
  'Retry-After', 'Route', 'RSeq', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag',
  'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported',
  'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

const CANONICAL = new Map<string, string>(KNOWN.map((n) => [n.toLowerCase(), n]));

/**
 * Fields whose grammar is `value *(COMMA value)`, so one line may carry several values that are
 * split into separate entries. Authorization-type fields, Date and the like are not lists
 * (their commas are part of one value).
 */
const LIST_FIELDS = new Set(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow',
    'Allow-Events', 'Call-Info', 'Contact', 'Content-Encoding', 'Content-Language', 'Error-Info',
    'In-Reply-To', 'Path', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Proxy-Require',
    'Reason', 'Record-Route', 'Reject-Contact', 'Request-Disposition', 'Require', 'Route',
    'Service-Route', 'Supported', 'Unsupported', 'Via', 'Warning',
  ].map((n) => n.toLowerCase()),
);

/**
 * List fields whose every element is validated by the parser: an empty element there is an
 * error (RFC 4475 "badinv01"), while other lists just drop empty elements.
 */
export const STRICT_LIST_FIELDS: ReadonlySet<string> = new Set(['via', 'contact', 'route', 'record-route']);

/** Fields that must not occur more than once (RFC 4475 "multi01", "mcl01"). */
export const SINGLETON_FIELDS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type',
]);

/** Full, conventionally capitalised name for `name`; compact forms are expanded, unknown names kept. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const full = COMPACT[lower];
    if (full !== undefined) return full;
  }
  return CANONICAL.get(lower) ?? name;
}

/** Case-insensitive lookup key for `name` (compact forms map to their full name's key). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const full = COMPACT[lower];
    if (full !== undefined) return full.toLowerCase();
  }
  return lower;
}

/** True when `key` (from {@link headerKey}) names a comma-separated list field. */
export function isListField(key: string): boolean {
  return LIST_FIELDS.has(key);
}
