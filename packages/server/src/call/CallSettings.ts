/** Server-wide settings for SIP calls (docs/configuration.md). */
export interface CallSettings {
  /** Address our SIP and RTP sockets bind to. */
  readonly sipBindAddress: string;
  /** Local SIP port (UDP and TCP). */
  readonly sipPort: number;
  /** Address written into Via/Contact and the SDP (public IP behind NAT); default: bind address. */
  readonly sipPublicAddress: string;
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  /** WCS rtp_session_init_always: send RTP/RTCP to the peer at once to open its latching and NAT. */
  readonly rtpSessionInitAlways: boolean;
  /** WCS rtp_activity_detecting: end a call without incoming RTP for this many seconds (0 = off). */
  readonly rtpActivityTimeoutSec: number;
  /** WCS sip_single_route_only: send every request of a call to the configured proxy only. */
  readonly sipSingleRouteOnly: boolean;
  readonly maxCalls: number;
  /** Calls are hung up after this many seconds (0 = unlimited). */
  readonly maxCallDurationSec: number;
  /** When set, a callee (user part or URI) must match it (guards against toll fraud). */
  readonly calleeAllowPattern: RegExp | undefined;
  /** How long an unanswered INVITE may ring before it is cancelled. */
  readonly ringTimeoutSec: number;
}
