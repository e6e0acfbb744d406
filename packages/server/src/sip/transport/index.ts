/**
 * SIP transport layer: UDP and TCP on one address and port (RFC 3261 §18, RFC 3581, RFC 5626 keep-alives).
 */
export { SipTransport, type SipTransportOptions, type SipTransportCounters, type SipTransportEvents } from './SipTransport.js';
export { SipTransportError } from './SipTransportError.js';
export { resolveHost, unbracket } from './resolveHost.js';
export { responseTarget, stampReceived, topVia, viaTransport, SIP_DEFAULT_PORT } from './viaRouting.js';
export type { SipEndpoint, SipHostTarget, SipSource, SipTransportProtocol } from './types.js';
