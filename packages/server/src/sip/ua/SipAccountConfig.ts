/**
 * SIP account settings (the WCS-style sipLogin, sipAuthenticationName, sipPassword,
 * sipDomain, sipOutboundProxy, sipPort, sipTransport, visibleName) and how they map onto URIs
 * and the first hop.
 */
import { parsePortSafe } from './parsePort.js';
import type { SipHostTarget } from '../transport/types.js';

/** One SIP account. */
export interface SipAccountConfig {
  /** From user (sipLogin). */
  login: string;
  /** sipAuthenticationName, default = login; separate from the From user. */
  authName?: string;
  /** Opaque; never logged. */
  password?: string;
  /** sipDomain: host[:port] (From/To/Request-URI domain, registrar). */
  domain: string;
  /** sipOutboundProxy host[:port]: where requests are sent (default: domain). */
  outboundProxy?: string;
  /** sipPort: port of domain/outbound proxy when not given in them (default 5060). */
  port?: number;
  transport: 'udp' | 'tcp';
  /** visibleName, From display name. */
  displayName?: string;
}

/** A host with an optional port. */
export interface HostPort {
  /** Host name or IP literal (IPv6 bracketed). */
  readonly host: string;
  readonly port?: number;
}

/**
 * Parses `host[:port]` ("example.com", "10.0.0.1:5080", "[::1]:5060"); a leading "sip:" is
 * tolerated. Throws Error for anything else.
 */
export function parseHostPort(value: string): HostPort {
  const s = value.trim().replace(/^sip:/i, '');
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) throw new Error(`invalid host[:port] "${value}"`);
  const host = m[1]!;
  if (m[2] === undefined) return { host };
  const port = parsePortSafe(m[2]);
  if (port === undefined) throw new Error(`invalid port in "${value}"`);
  return { host, port };
}

/**
 * Where out-of-dialog requests go: the outbound proxy if set, else the domain; the port from
 * that value, else sipPort, else 5060.
 */
export function firstHopOf(account: SipAccountConfig): SipHostTarget {
  const hp = parseHostPort(account.outboundProxy !== undefined && account.outboundProxy.trim() !== '' ? account.outboundProxy : account.domain);
  return { transport: account.transport, host: hp.host, port: hp.port ?? account.port ?? 5060 };
}
