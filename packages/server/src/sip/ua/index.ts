/**
 * sipcast's SIP user agent: registrations and outgoing calls over its own RFC 3261 stack.
 */
export { SipUserAgent, type SipUserAgentOptions, type SipUserAgentCounters } from './SipUserAgent.js';
export { SipRegistration, type SipRegistrationEvents } from './SipRegistration.js';
export { SipClientCall, type SipClientCallEvents, type SipCallState, type SipInviteOptions } from './SipClientCall.js';
export { SipRequestError } from './SipRequestError.js';
export { parseHostPort, firstHopOf, type SipAccountConfig, type HostPort } from './SipAccountConfig.js';
export type { Clock, ClockTimer } from '../transaction/Clock.js';
