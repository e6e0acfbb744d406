/**
 * The next hop for a SIP URI (RFC 3261 §8.1.2 without RFC 3263 DNS): maddr or host, the port
 * (default 5060), and the transport parameter, falling back to the account's transport.
 */
import { getParam, parseNameAddr, parseSipUri } from '../message/index.js';
import type { SipHostTarget, SipTransportProtocol } from '../transport/types.js';
import { SIP_DEFAULT_PORT } from '../transport/viaRouting.js';

/**
 * Next hop for `uri`. A URI without `;transport=` keeps `fallback` (the account's transport):
 * an account configured for TCP usually is so because UDP does not get through. Throws Error
 * for non-sip URIs and unsupported transports.
 */
export function hopOf(uri: string, fallback: SipTransportProtocol): SipHostTarget {
  const u = parseSipUri(uri);
  if (u.scheme !== 'sip') throw new Error('sips: is not supported');
  const t = getParam(u.params, 'transport')?.value?.toLowerCase();
  if (t !== undefined && t !== 'udp' && t !== 'tcp') throw new Error(`unsupported transport "${t}"`);
  const maddr = getParam(u.params, 'maddr')?.value;
  return { transport: t ?? fallback, host: maddr ?? u.host, port: u.port ?? SIP_DEFAULT_PORT };
}

/** The URI inside a name-addr value such as a Route or Contact entry. */
export function uriOf(nameAddr: string): string {
  return parseNameAddr(nameAddr).uri;
}

/** True when the URI of a Route/Record-Route value carries `;lr` (a loose router, RFC 3261 §16.12). */
export function isLooseRoute(routeValue: string): boolean {
  try {
    return getParam(parseSipUri(uriOf(routeValue)).params, 'lr') !== undefined;
  } catch {
    return true;
  }
}
