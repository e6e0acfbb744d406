import type { MediaDescription, MediaKind } from '../media/MediaTypes.js';

/**
 * What a call needs from the SIP and RTP layers. The SIP user agent (sip/ua) and the RTP session
 * (sipmedia) satisfy these structurally; tests pass fakes.
 */

import type { SipAccountConfig } from '../sip/ua/SipAccountConfig.js';

export type SipAccount = SipAccountConfig;

export interface SipFailure extends Error {
  readonly status: number;
  readonly reason: string;
}

export interface SipCallLeg {
  readonly callId: string;
  on(event: 'provisional', fn: (status: number, reason: string, sdp: string | undefined) => void): unknown;
  on(event: 'accepted', fn: (sdp: string) => void): unknown;
  on(event: 'rejected', fn: (err: SipFailure) => void): unknown;
  on(event: 'terminated', fn: (by: 'local' | 'remote', reason: string) => void): unknown;
  on(event: 'info', fn: (contentType: string, body: string) => void): unknown;
  on(event: 'reinvite', fn: (sdp: string, respond: (answerSdp: string | null) => void) => void): unknown;
  hangup(): void;
  sendInfo(contentType: string, body: string): Promise<number>;
}

export interface SipRegistrationLeg {
  unregister(): Promise<void>;
}

export interface SipAgent {
  register(account: SipAccount, expires?: number): Promise<SipRegistrationLeg>;
  invite(o: { account: SipAccount; target: string; sdp: string; callId?: string; singleRouteOnly?: boolean }): SipCallLeg;
}

/** What the callee's SDP answer gave the call. */
export interface AppliedAnswer {
  readonly media: MediaDescription;
  /** Offered kinds the callee refused (port 0, no common codec), with the reason. */
  readonly rejected: readonly { kind: MediaKind; reason: string }[];
}

/**
 * The call's RTP side: it owns the ports, writes our SDP offer, reads the callee's answer and
 * receives the media into a target.
 */
export interface MediaLeg {
  readonly ports: Partial<Record<MediaKind, { rtp: number; rtcp: number }>>;
  offer(): string;
  /** Parses the answer and starts receiving into `target`; throws when it is unusable. */
  applyAnswer(
    sdp: string,
    target: { pushRtp(kind: MediaKind, packet: Buffer): void },
    opts: { initAlways: boolean; inactivityTimeoutMs: number },
  ): AppliedAnswer;
  /** Our answer to the callee's re-INVITE offer, or null for 488. */
  answerReoffer(sdp: string): string | null;
  on(event: 'inactive', fn: () => void): unknown;
  requestKeyframe(): void;
  sendDtmf(digits: string): Promise<void>;
  close(): void;
}

export interface MediaLegFactory {
  open(kinds: MediaKind[]): Promise<MediaLeg>;
}
