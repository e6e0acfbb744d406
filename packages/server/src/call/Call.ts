import type { MediaKind, StreamPublisher } from '../media/MediaTypes.js';
import type { LiveStream } from '../registry/LiveStream.js';
import type { Logger } from '../util/Logger.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { CallSettings } from './CallSettings.js';
import type { AppliedAnswer, MediaLeg, MediaLegFactory, SipAccount, SipAgent, SipCallLeg, SipFailure, SipRegistrationLeg } from './CallPorts.js';
import { CALL_INFO, CALL_STATUS, type CallJson, type CallStartup, type CallStatus, type DtmfType } from './CallTypes.js';

export interface CallEvents extends Record<string, unknown[]> {
  status: [status: CallStatus];
  /** The call is over (FINISH, FAILED or BUSY); it leaves the call table. */
  ended: [];
}

export class CallStateError extends Error {
  override readonly name = 'CallStateError';
}

const PICTURE_FAST_UPDATE =
  '<?xml version="1.0" encoding="utf-8" ?><media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>';

/**
 * One outgoing SIP call whose media feeds the stream `toStream`: optional REGISTER, INVITE with
 * our RTP/AVP offer, early media and the answer become the stream's media; either side's hang-up,
 * a failure or RTP inactivity ends the call and the stream.
 */
export class Call extends TypedEmitter<CallEvents> implements StreamPublisher {
  readonly req: CallStartup;
  readonly stream: LiveStream;
  readonly startTime = Date.now();
  #status: CallStatus = CALL_STATUS.NEW;
  #sipStatus = 0;
  #info = '';
  #leg: SipCallLeg | undefined;
  #registration: SipRegistrationLeg | undefined;
  #media: MediaLeg | undefined;
  #answer: AppliedAnswer | undefined;
  #hangupRequested = false;
  #ended = false;
  #timers: NodeJS.Timeout[] = [];
  readonly #agent: SipAgent;
  readonly #mediaFactory: MediaLegFactory;
  readonly #settings: CallSettings;
  readonly #log: Logger;

  constructor(
    req: CallStartup,
    stream: LiveStream,
    deps: { agent: SipAgent; media: MediaLegFactory; settings: CallSettings; log: Logger },
  ) {
    super();
    this.req = req;
    this.stream = stream;
    this.#agent = deps.agent;
    this.#mediaFactory = deps.media;
    this.#settings = deps.settings;
    this.#log = deps.log;
  }

  get status(): CallStatus {
    return this.#status;
  }
  get sipStatus(): number {
    return this.#sipStatus;
  }
  get ended(): boolean {
    return this.#ended;
  }

  /** A SIP peer makes keyframes on request (RTCP PLI/FIR and SIP INFO). */
  get canProduceKeyframe(): boolean {
    return true;
  }

  requestKeyframe(): void {
    this.#media?.requestKeyframe();
    if (this.#status === CALL_STATUS.ESTABLISHED && this.#answer?.media.video) {
      this.#leg?.sendInfo('application/media_control+xml', PICTURE_FAST_UPDATE).catch(() => undefined);
    }
  }

  /** Runs the call until it is set up or fails; never throws (failures end the call). */
  async start(): Promise<void> {
    try {
      this.#setStatus(CALL_STATUS.PENDING);
      const account = this.#account();
      if (this.req.sipRegisterRequired) {
        this.#registration = await this.#agent.register(account);
        if (this.#hangupRequested) return this.#finish(CALL_STATUS.FINISH, CALL_INFO.NORMAL_CALL_CLEARING);
      }
      const kinds: MediaKind[] = [];
      if (this.req.hasAudio) kinds.push('audio');
      if (this.req.hasVideo) kinds.push('video');
      this.#media = await this.#mediaFactory.open(kinds);
      this.#media.on('inactive', () => this.#onRtpInactive());
      if (this.#hangupRequested) return this.#finish(CALL_STATUS.FINISH, CALL_INFO.NORMAL_CALL_CLEARING);
      const offer = this.#media.offer();
      this.#setStatus(CALL_STATUS.TRYING);
      const leg = this.#agent.invite({ account, target: this.req.callee, sdp: offer, singleRouteOnly: this.#settings.sipSingleRouteOnly });
      this.#leg = leg;
      leg.on('provisional', (status, _reason, sdp) => this.#onProvisional(status, sdp));
      leg.on('accepted', (sdp) => this.#onAccepted(sdp));
      leg.on('rejected', (err) => this.#onRejected(err));
      leg.on('terminated', (by, reason) => this.#onTerminated(by, reason));
      leg.on('reinvite', (sdp, respond) => respond(this.#answerReoffer(sdp)));
      if (this.#settings.ringTimeoutSec > 0) {
        this.#timer(this.#settings.ringTimeoutSec * 1000, () => {
          if (this.#status !== CALL_STATUS.ESTABLISHED) this.#leg?.hangup();
        });
      }
    } catch (err) {
      const failure = err as Partial<SipFailure>;
      if (typeof failure.status === 'number') this.#sipStatus = failure.status;
      this.#log.info(`call ${this.req.callId}: setup failed: ${(err as Error).message}`);
      this.#finish(CALL_STATUS.FAILED, typeof failure.status === 'number' ? `${failure.status} ${failure.reason ?? ''}`.trim() : CALL_INFO.FAILED_BY_SESSION_CREATION);
    }
  }

  /** Hangs up: CANCEL before the answer, BYE after; a call still registering just stops. */
  terminate(): void {
    if (this.#ended) return;
    this.#hangupRequested = true;
    if (this.#leg) this.#leg.hangup();
    else if (this.#status === CALL_STATUS.NEW) this.#finish(CALL_STATUS.FINISH, CALL_INFO.NORMAL_CALL_CLEARING);
  }

  async sendDtmf(dtmf: string, type: DtmfType): Promise<void> {
    if (this.#status !== CALL_STATUS.ESTABLISHED || !this.#leg) throw new CallStateError(`call is ${this.#status}, not ESTABLISHED`);
    if (type === 'RFC2833') {
      if (!this.#media) throw new CallStateError('call has no media');
      await this.#media.sendDtmf(dtmf);
      return;
    }
    // INFO carries the bare digit (application/dtmf); INFO_RELAY the Signal/Duration form.
    for (const digit of dtmf) {
      const status =
        type === 'INFO'
          ? await this.#leg.sendInfo('application/dtmf', digit)
          : await this.#leg.sendInfo('application/dtmf-relay', `Signal=${digit}\r\nDuration=160\r\n`);
      if (status >= 300) throw new CallStateError(`INFO for DTMF answered ${status}`);
    }
  }

  toJson(): CallJson {
    const r = this.req;
    return {
      callId: r.callId,
      incoming: false,
      status: this.#status,
      sipStatus: this.#sipStatus,
      info: this.#info,
      caller: r.sipLogin,
      callee: r.callee,
      hasAudio: r.hasAudio,
      hasVideo: r.hasVideo,
      streamName: r.toStream,
      rtmpUrl: r.rtmpUrl ?? '',
      rtmpStream: r.rtmpStream ?? '',
      visibleName: r.visibleName ?? '',
      appKey: r.appKey ?? 'defaultApp',
      sessionId: `sip-${r.callId}`,
      custom: r.custom ?? {},
      audioCodec: this.#answer?.media.audio?.codec ?? '',
      videoCodec: this.#answer?.media.video?.codec ?? '',
      startTime: this.startTime,
    };
  }

  #account(): SipAccount {
    const r = this.req;
    return {
      login: r.sipLogin,
      domain: r.sipDomain,
      transport: r.sipTransport,
      ...(r.sipAuthenticationName ? { authName: r.sipAuthenticationName } : {}),
      ...(r.sipPassword !== undefined ? { password: r.sipPassword } : {}),
      ...(r.sipOutboundProxy ? { outboundProxy: r.sipOutboundProxy } : {}),
      ...(r.sipPort ? { port: r.sipPort } : {}),
      ...(r.visibleName ? { displayName: r.visibleName } : {}),
    };
  }

  #onProvisional(status: number, sdp: string | undefined): void {
    if (this.#ended) return;
    this.#sipStatus = status;
    if (status === 100) return this.#setStatus(CALL_STATUS.TRYING);
    if (sdp && !this.#answer) this.#applyAnswer(sdp);
    if (status === 180 || status === 181 || status === 182) this.#setStatus(sdp ? CALL_STATUS.RING_MEDIA : CALL_STATUS.RING);
    else this.#setStatus(sdp ? CALL_STATUS.SESSION_PROGRESS : CALL_STATUS.RING);
  }

  #onAccepted(sdp: string): void {
    if (this.#ended) return;
    this.#sipStatus = 200;
    if (this.#hangupRequested) {
      this.#leg?.hangup();
      return;
    }
    if (!this.#answer && !this.#applyAnswer(sdp)) return;
    this.#setStatus(CALL_STATUS.ESTABLISHED);
    if (this.#settings.maxCallDurationSec > 0) {
      this.#timer(this.#settings.maxCallDurationSec * 1000, () => {
        this.#info = 'Maximum call duration reached';
        this.#leg?.hangup();
      });
    }
  }

  /** Applies the callee's SDP: starts receiving RTP into the stream. False when it is unusable. */
  #applyAnswer(sdp: string): boolean {
    if (!this.#media) return false;
    let answer: AppliedAnswer;
    try {
      answer = this.#media.applyAnswer(sdp, this.stream, {
        initAlways: this.#settings.rtpSessionInitAlways,
        inactivityTimeoutMs: this.#settings.rtpActivityTimeoutSec * 1000,
      });
    } catch (err) {
      this.#log.info(`call ${this.req.callId}: unusable SDP answer: ${(err as Error).message}`);
      this.#info = CALL_INFO.NO_COMMON_CODECS;
      this.#leg?.hangup();
      return false;
    }
    if (answer.rejected.length > 0) {
      this.#info = `Callee refused ${answer.rejected.map((r) => `${r.kind} (${r.reason})`).join(' and ')}; continuing without it`;
      this.#log.info(`call ${this.req.callId}: ${this.#info}`);
    }
    this.#answer = answer;
    this.stream.attachPublisher(this, answer.media);
    return true;
  }

  #answerReoffer(sdp: string): string | null {
    if (!this.#answer || !this.#media) return null;
    return this.#media.answerReoffer(sdp);
  }

  #onRejected(err: SipFailure): void {
    this.#sipStatus = err.status;
    this.#log.info(`call ${this.req.callId}: INVITE rejected ${err.status} ${err.reason}`);
    if (this.#hangupRequested && (err.status === 487 || err.status === 408)) {
      return this.#finish(CALL_STATUS.FINISH, CALL_INFO.NORMAL_CALL_CLEARING);
    }
    const busy = err.status === 486 || err.status === 600;
    const info = err.status === 408 ? CALL_INFO.FAILED_BY_REQUEST_TIMEOUT : `${err.status} ${err.reason}`.trim();
    this.#finish(busy ? CALL_STATUS.BUSY : CALL_STATUS.FAILED, info);
  }

  #onTerminated(by: 'local' | 'remote', reason: string): void {
    if (this.#info === CALL_INFO.FAILED_BY_RTP_ACTIVITY) return this.#finish(CALL_STATUS.FAILED, this.#info);
    this.#log.info(`call ${this.req.callId}: hung up by ${by} (${reason})`);
    this.#finish(CALL_STATUS.FINISH, this.#info || CALL_INFO.NORMAL_CALL_CLEARING);
  }

  #onRtpInactive(): void {
    if (this.#ended) return;
    this.#log.info(`call ${this.req.callId}: no RTP for ${this.#settings.rtpActivityTimeoutSec} s, hanging up`);
    this.#info = CALL_INFO.FAILED_BY_RTP_ACTIVITY;
    if (this.#leg) this.#leg.hangup();
    else this.#finish(CALL_STATUS.FAILED, this.#info);
  }

  #finish(status: CallStatus, info: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#info = info;
    for (const t of this.#timers) clearTimeout(t);
    this.#media?.close();
    this.#registration?.unregister().catch(() => undefined);
    const failed = status !== CALL_STATUS.FINISH || info === CALL_INFO.FAILED_BY_RTP_ACTIVITY;
    this.stream.end(info === CALL_INFO.FAILED_BY_RTP_ACTIVITY ? info : 'Stopped by publisher stop', failed && info === CALL_INFO.FAILED_BY_RTP_ACTIVITY);
    this.#setStatus(status);
    this.emit('ended');
  }

  #setStatus(status: CallStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status);
  }

  #timer(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.#timers.push(t);
  }
}
