/**
 * `host` and `port` validation (RFC 3261 §25.1) shared by SIP URIs and Via sent-by.
 * Hostnames are checked a little more liberally than the ABNF: underscores are accepted because
 * deployed DNS names use them, but every label must still be non-empty alphanumerics and
 * hyphens, and an all-numeric name must be a valid IPv4 address.
 */
import { isIPv6 } from 'node:net';
import { isAlpha, isDigit } from './grammar.js';

/** What kind of host a string is. */
export type HostKind = 'ipv4' | 'ipv6' | 'domain';

/** Classifies `host`, or returns null when it is not a valid `host`. IPv6 must be bracketed. */
export function hostKind(host: string): HostKind | null {
  if (host.length === 0 || host.length > 255) return null;
  if (host.charCodeAt(0) === 0x5b) {
    if (host.charCodeAt(host.length - 1) !== 0x5d) return null;
    return isIPv6(host.slice(1, -1)) ? 'ipv6' : null;
  }
  if (/^[0-9.]+$/.test(host)) return isIPv4(host) ? 'ipv4' : null;
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  for (const label of labels) {
    if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)) return null;
  }
  // RFC 3261 toplabel starts with ALPHA, which is what tells "10.0.0.256" apart from a name.
  const top = labels[labels.length - 1] ?? '';
  return isAlpha(top.charCodeAt(0)) || top.charCodeAt(0) === 0x5f ? 'domain' : null;
}

/** True for a dotted-quad IPv4 address with every octet at most 255. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => p.length >= 1 && p.length <= 3 && /^\d+$/.test(p) && Number(p) <= 255);
}

/** Parses a `port` (1 to 5 digits, at most 65535), or returns null. */
export function parsePort(s: string): number | null {
  if (s.length === 0 || s.length > 5) return null;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}
