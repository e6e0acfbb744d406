import type { AudioCodec, MediaDescription, MediaKind } from '../media/MediaTypes.js';

/**
 * What a call needs from the SIP and RTP layers. The SIP user agent (sip/ua) and the RTP session
 * (sipmedia) satisfy these structurally; tests pass fakes.
 */

export interface SipAccount {
  login: string;
  authName?: string;
  password?: string;
  domain: string;
  outboundProxy?: string;
  port?: number;
  transport: 'udp' | 'tcp';
  displayName?: string;
}

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

/** A parsed SDP answer from the callee, as far as the call looks at it. */
export interface SipAnswerLike {
  readonly audio?: { readonly codec: string } | undefined;
  readonly video?: { readonly codec: string } | undefined;
  readonly rejected: readonly MediaKind[];
}

export interface MediaLeg<Answer extends SipAnswerLike = SipAnswerLike> {
  readonly ports: Partial<Record<MediaKind, { rtp: number; rtcp: number }>>;
  start(
    answer: Answer,
    target: { pushRtp(kind: MediaKind, packet: Buffer): void },
    opts: { initAlways: boolean; inactivityTimeoutMs: number; latching: 'off' | 'auto' },
  ): void;
  on(event: 'inactive', fn: () => void): unknown;
  requestKeyframe(): void;
  sendDtmf(digits: string, opts?: { durationMs?: number }): Promise<void>;
  close(): void;
}

/** SDP functions of the SIP media layer. */
export interface SipSdpCodec<Answer extends SipAnswerLike = SipAnswerLike> {
  buildOffer(o: { address: string; sessionId: number; audio?: { port: number; codecs: AudioCodec[]; telephoneEvent?: boolean }; video?: { port: number } }): string;
  parseAnswer(sdp: string, offered: { audio: boolean; video: boolean }): Answer;
  describeMedia(answer: Answer): MediaDescription;
  answerReoffer(reofferSdp: string, current: Answer, ports: MediaLeg['ports'], address: string): string | null;
}

export interface MediaLegFactory<Answer extends SipAnswerLike = SipAnswerLike> {
  open(kinds: MediaKind[]): Promise<MediaLeg<Answer>>;
}
