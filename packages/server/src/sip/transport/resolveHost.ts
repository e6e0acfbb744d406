/**
 * Host resolution for next hops. RFC 3263 NAPTR/SRV is not implemented: sipcast is configured
 * with explicit host[:port] values, so an IP literal is used as is and a name goes through the
 * system resolver (dns.lookup, which also knows /etc/hosts and "localhost").
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SipTransportError } from './SipTransportError.js';

/** Strips the brackets of an IPv6 reference ("[::1]" → "::1"). */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Resolves `host` to one IP address of `family` (the family of our bound sockets: an IPv4
 * socket cannot reach an IPv6 address). Throws {@link SipTransportError}.
 */
export async function resolveHost(host: string, family: 4 | 6): Promise<string> {
  const bare = unbracket(host);
  const kind = isIP(bare);
  if (kind !== 0) {
    if (kind !== family) throw new SipTransportError(`address family of ${bare} does not match the bound socket`);
    return bare;
  }
  try {
    const res = await lookup(bare, { family });
    return res.address;
  } catch {
    throw new SipTransportError(`cannot resolve ${bare}`);
  }
}
