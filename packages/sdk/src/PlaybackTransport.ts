import { EnhancedEventEmitter } from './EnhancedEventEmitter';
import type { Logger } from './Logger';
import { setOpusFmtp, stripCodecs } from './sdp';

/** Options of {@link PlaybackTransport}. */
export interface PlaybackTransportOptions {
  /** Base RTCPeerConnection configuration (the session's `mediaOptions`). */
  configuration?: RTCConfiguration | undefined;
  /** Legacy constraints, passed as the constructor's second argument when given. */
  connectionConstraints?: unknown;
  receiveAudio: boolean;
  receiveVideo: boolean;
  /** Codecs removed from the offer sent to the server. */
  stripCodecs?: string | readonly string[] | undefined;
  /** Offer stereo opus (`stereo=1;sprop-stereo=1`). */
  stereo?: boolean;
  logger: Logger;
}

/** Events of {@link PlaybackTransport}. */
export type PlaybackTransportEvents = {
  /** A remote track arrived. */
  track: [track: MediaStreamTrack, receiver: RTCRtpReceiver];
  /** ICE or DTLS failed for good. */
  failed: [reason: string];
};

const LOG = 'webrtc';

/**
 * The receive-only RTCPeerConnection of one played stream.
 *
 * `bundlePolicy: "max-compat"`, `rtcpMuxPolicy: "require"`, no ICE servers
 * unless the session's `mediaOptions` give some. The browser offers
 * (recvonly audio and/or video); the offer is returned as soon as
 * `setLocalDescription` resolves, so it has no candidates (no trickle ICE).
 */
export class PlaybackTransport extends EnhancedEventEmitter<PlaybackTransportEvents> {
  private readonly pc: RTCPeerConnection;
  private closed = false;

  constructor(private readonly options: PlaybackTransportOptions) {
    super();
    const configuration: RTCConfiguration = {
      iceServers: [],
      ...options.configuration,
      bundlePolicy: 'max-compat',
      rtcpMuxPolicy: 'require',
    };
    const Ctor = RTCPeerConnection as unknown as new (c: RTCConfiguration, legacy?: unknown) => RTCPeerConnection;
    this.pc =
      options.connectionConstraints === undefined
        ? new Ctor(configuration)
        : new Ctor(configuration, options.connectionConstraints);
    this.pc.ontrack = (event: RTCTrackEvent) => {
      if (!this.closed) this.safeEmit('track', event.track, event.receiver);
    };
    this.pc.oniceconnectionstatechange = () => {
      if (this.pc.iceConnectionState === 'failed' && !this.closed) {
        this.safeEmit('failed', 'ICE failed');
      }
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'failed' && !this.closed) {
        this.safeEmit('failed', 'connection failed');
      }
    };
  }

  /**
   * Creates the recvonly offer, applies it locally and returns the SDP to send
   * to the server (with `stripCodecs` applied).
   */
  async createOffer(): Promise<string> {
    const { receiveAudio, receiveVideo } = this.options;
    if (receiveAudio) this.pc.addTransceiver('audio', { direction: 'recvonly' });
    if (receiveVideo) this.pc.addTransceiver('video', { direction: 'recvonly' });
    const offer = await this.pc.createOffer();
    let sdp = offer.sdp ?? '';
    if (this.options.stereo) {
      // Chromium plays opus as mono unless the offer asks for stereo too.
      sdp = setOpusFmtp(sdp, { stereo: '1', 'sprop-stereo': '1' });
    }
    await this.pc.setLocalDescription({ type: 'offer', sdp });
    this.options.logger.debug(LOG, 'offer applied');
    return stripCodecs(sdp, this.options.stripCodecs);
  }

  /** Applies the server's answer. */
  async setRemoteAnswer(sdp: string): Promise<void> {
    if (this.closed) return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.options.logger.debug(LOG, 'answer applied');
  }

  /** The applied remote SDP, if any. */
  remoteSdp(): string | undefined {
    return (this.pc.currentRemoteDescription ?? this.pc.remoteDescription)?.sdp;
  }

  /** The receivers of the connection. */
  getReceivers(): RTCRtpReceiver[] {
    return this.pc.getReceivers();
  }

  /** Native statistics of the connection. */
  getStats(): Promise<RTCStatsReport> {
    return this.pc.getStats();
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the peer connection; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.ontrack = null;
    this.pc.oniceconnectionstatechange = null;
    this.pc.onconnectionstatechange = null;
    if (this.pc.signalingState !== 'closed') this.pc.close();
    this.removeAllListeners();
  }
}
