import { randomInt } from 'node:crypto';
import type { MediaKind } from '../media/MediaTypes.js';
import { buildSipAnswerFor, buildSipOffer, describeMedia, parseSipAnswer, type SipAnswer } from '../sipmedia/SipSdp.js';
import { RtpSession } from '../sipmedia/RtpSession.js';
import type { Logger } from '../util/Logger.js';
import type { AppliedAnswer, MediaLeg, MediaLegFactory } from './CallPorts.js';
import type { CallSettings } from './CallSettings.js';

/** The call's media leg on top of sipmedia: SDP offer/answer and an RtpSession. */
export class SipMediaLeg implements MediaLeg {
  readonly #rtp: RtpSession;
  readonly #address: string;
  readonly #sessionId = randomInt(1, 2 ** 31);
  #sessionVersion = 1;
  #answer: SipAnswer | undefined;

  private constructor(rtp: RtpSession, address: string) {
    this.#rtp = rtp;
    this.#address = address;
  }

  static factory(settings: CallSettings, log: Logger): MediaLegFactory {
    return {
      open: async (kinds: MediaKind[]) => {
        const rtp = await RtpSession.open({ bindAddress: settings.sipBindAddress, portMin: settings.rtpPortMin, portMax: settings.rtpPortMax, kinds, log });
        return new SipMediaLeg(rtp, settings.sipPublicAddress);
      },
    };
  }

  get ports(): MediaLeg['ports'] {
    return this.#rtp.ports;
  }

  offer(): string {
    const p = this.#rtp.ports;
    return buildSipOffer({
      address: this.#address,
      sessionId: this.#sessionId,
      sessionVersion: this.#sessionVersion,
      ...(p.audio ? { audio: { port: p.audio.rtp, codecs: ['opus', 'PCMU', 'PCMA'], telephoneEvent: true } } : {}),
      ...(p.video ? { video: { port: p.video.rtp } } : {}),
    });
  }

  applyAnswer(sdp: string, target: { pushRtp(kind: MediaKind, packet: Buffer): void }, opts: { initAlways: boolean; inactivityTimeoutMs: number }): AppliedAnswer {
    const p = this.#rtp.ports;
    const answer = parseSipAnswer(sdp, {
      ...(p.audio ? { audio: { codecs: ['opus', 'PCMU', 'PCMA'] } } : {}),
      ...(p.video ? { video: { port: p.video.rtp } } : {}),
    });
    if (!answer.audio && !answer.video) throw new Error(`no usable media: ${JSON.stringify(answer.rejectReasons)}`);
    this.#answer = answer;
    this.#rtp.start(answer, target, { ...opts, latching: 'auto' });
    return {
      media: describeMedia(answer),
      rejected: answer.rejected.map((kind) => ({ kind, reason: answer.rejectReasons[kind] ?? 'refused' })),
    };
  }

  answerReoffer(sdp: string): string | null {
    const current = this.#answer;
    if (!current) return null;
    const p = this.#rtp.ports;
    let re;
    try {
      re = buildSipAnswerFor(sdp, {
        address: this.#address,
        sessionId: this.#sessionId,
        sessionVersion: this.#sessionVersion,
        ...(current.audio && p.audio ? { audio: { port: p.audio.rtp, codec: current.audio.codec as 'opus' | 'PCMU' | 'PCMA' } } : {}),
        ...(current.video && p.video ? { video: { port: p.video.rtp } } : {}),
      });
    } catch {
      return null;
    }
    if (!re) return null;
    this.#sessionVersion = re.sessionVersion;
    this.#rtp.updateRemote(re.remote);
    return re.sdp;
  }

  on(event: 'inactive', fn: () => void): this {
    this.#rtp.on(event, fn);
    return this;
  }

  requestKeyframe(): void {
    this.#rtp.requestKeyframe();
  }

  sendDtmf(digits: string): Promise<void> {
    return this.#rtp.sendDtmf(digits);
  }

  close(): void {
    void this.#rtp.close();
  }
}
