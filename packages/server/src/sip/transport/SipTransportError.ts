/**
 * Failure to hand a message to the network: unresolvable host, refused or reset TCP
 * connection, socket error. The transaction layer turns it into a 503 for the TU
 * (RFC 3261 §8.1.3.1).
 */
export class SipTransportError extends Error {
  override readonly name = 'SipTransportError';
}
