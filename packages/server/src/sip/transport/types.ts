/**
 * Addresses used between the SIP transport, the transaction layer and the user agent.
 */

/** The transports sipcast speaks (RFC 3261 §18: UDP and TCP; no TLS/SCTP/WS). */
export type SipTransportProtocol = 'udp' | 'tcp';

/** A resolved destination or source: an IP literal (IPv6 without brackets) and a port. */
export interface SipEndpoint {
  readonly transport: SipTransportProtocol;
  /** IP address, never a host name (names are resolved once per request, before sending). */
  readonly address: string;
  readonly port: number;
}

/** Where an incoming message came from. */
export interface SipSource extends SipEndpoint {
  /**
   * For TCP: the connection it arrived on, so responses go back over the same connection
   * (RFC 3261 §18.2.2). Absent for UDP.
   */
  readonly connectionId?: number;
}

/** A destination that may still need host resolution ("proxy.example.com", "localhost"). */
export interface SipHostTarget {
  readonly transport: SipTransportProtocol;
  /** Host name or IP literal; IPv6 may be bracketed. */
  readonly host: string;
  readonly port: number;
}
