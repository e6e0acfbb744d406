import { randomUUID } from 'node:crypto';
import ndc from 'node-datachannel';
import type { MediaKind } from '../media/MediaTypes.js';
import type { LiveStream } from '../registry/LiveStream.js';
import type { MediaSink, StreamEnd } from '../registry/MediaSink.js';
import { parseRtcpFeedback } from '../rtp/rtcp.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { OfferError, preferDtlsServerRole, selectCodecs, type SelectedCodec } from './OfferSelection.js';
import type { WebRtcSettings } from './WebRtcSettings.js';

export interface WebRtcViewerEvents extends Record<string, unknown[]> {
  /** Media flows: the transport is up and the viewer is attached to the stream. */
  playing: [];
  resize: [width: number, height: number];
  /** The viewer is gone for good; `info` says why. */
  closed: [end: StreamEnd];
}

const CNAME = 'sipcast';
const NACK_HISTORY_PACKETS = 512;
const GATHER_TIMEOUT_MS = 3000;

/**
 * One browser playing one stream over WebRTC (node-datachannel). Answers the browser's
 * recvonly offer with exactly one codec per m-section, the stream's SSRCs and this server's
 * candidates, then forwards the stream's RTP as is (payload type already patched by the stream).
 */
export class WebRtcViewer extends TypedEmitter<WebRtcViewerEvents> implements MediaSink {
  readonly id: string;
  readonly payloadTypes: Partial<Record<MediaKind, number>>;
  readonly #stream: LiveStream;
  readonly #pc: ndc.PeerConnection;
  #audio: ndc.Track | undefined;
  #video: ndc.Track | undefined;
  #pendingOpen = 0;
  #attached = false;
  #closed = false;
  #openTimer: NodeJS.Timeout | undefined;
  /** RTCP packets from the browser that did not parse. */
  rtcpDropped = 0;

  private constructor(id: string, stream: LiveStream, selection: { audio?: SelectedCodec; video?: SelectedCodec }, settings: WebRtcSettings) {
    super();
    this.id = id;
    this.#stream = stream;
    this.payloadTypes = {
      ...(selection.audio ? { audio: selection.audio.payloadType } : {}),
      ...(selection.video ? { video: selection.video.payloadType } : {}),
    };
    this.#pc = new ndc.PeerConnection(id, {
      iceServers: [],
      bindAddress: settings.bindAddress,
      portRangeBegin: settings.portRangeBegin,
      portRangeEnd: settings.portRangeEnd,
      enableIceUdpMux: settings.iceUdpMux,
    });
    const msid = `sipcast-${stream.mediaSessionId.slice(0, 8)}`;
    if (selection.audio) this.#audio = this.#addTrack(selection.audio, stream.ssrcOf('audio'), msid);
    if (selection.video) this.#video = this.#addTrack(selection.video, stream.ssrcOf('video'), msid);
    this.#pc.onStateChange((state) => {
      if (state === 'failed') this.close({ info: 'Failed by ICE error', failed: true });
      else if (state === 'closed' || state === 'disconnected') this.close({ info: 'Failed by ICE keep alive', failed: true });
    });
    this.#openTimer = setTimeout(() => {
      this.close({ info: this.#pc.iceState() === 'connected' ? 'Failed by DTLS error' : 'Failed by ICE timeout', failed: true });
    }, settings.connectTimeoutMs);
    this.#openTimer.unref();
  }

  /**
   * Negotiates with the browser's offer and returns the viewer and its SDP answer.
   * Throws OfferError for an offer that cannot be answered.
   */
  static async answer(stream: LiveStream, offerSdp: unknown, settings: WebRtcSettings): Promise<{ viewer: WebRtcViewer; answerSdp: string }> {
    const selection = selectCodecs(offerSdp, stream.media);
    const viewer = new WebRtcViewer(randomUUID(), stream, selection, settings);
    try {
      const offer = settings.preferGcm ? preferDtlsServerRole(offerSdp as string) : (offerSdp as string);
      const answerSdp = await viewer.#negotiate(offer, settings);
      return { viewer, answerSdp };
    } catch (err) {
      viewer.close({ info: 'Failed by error', failed: true });
      if (err instanceof OfferError) throw err;
      throw new OfferError(`negotiation failed: ${(err as Error).message}`, 'Failed by error: SDP offer was not accepted');
    }
  }

  sendRtp(kind: MediaKind, packet: Buffer): void {
    (kind === 'video' ? this.#video : this.#audio)?.sendMessageBinary(packet);
  }

  sendRtcp(kind: MediaKind, packet: Buffer): void {
    (kind === 'video' ? this.#video : this.#audio)?.sendMessageBinary(packet);
  }

  onResize(width: number, height: number): void {
    this.emit('resize', width, height);
  }

  onStreamEnd(end: StreamEnd): void {
    this.#attached = false;
    this.close(end);
  }

  /** Releases the peer connection; emits `closed` once. */
  close(end: StreamEnd): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#openTimer) clearTimeout(this.#openTimer);
    if (this.#attached) this.#stream.removeSink(this.id);
    this.#attached = false;
    this.#audio = undefined;
    this.#video = undefined;
    try {
      this.#pc.close();
    } catch {
      // already closed by the library
    }
    this.emit('closed', end);
    this.removeAllListeners();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #addTrack(sel: SelectedCodec, ssrc: number, msid: string): ndc.Track {
    let track: ndc.Track;
    if (sel.kind === 'video') {
      const video = new ndc.Video(sel.mid, 'SendOnly');
      video.addH264Codec(sel.payloadType, sel.fmtp || undefined);
      video.parseSdpLine(`a=rtcp-fb:${sel.payloadType} ccm fir`);
      video.addSSRC(ssrc, CNAME, msid, `${msid}-video`);
      track = this.#pc.addTrack(video);
      track.setMediaHandler(new ndc.RtcpNackResponder(NACK_HISTORY_PACKETS));
    } else {
      const audio = new ndc.Audio(sel.mid, 'SendOnly');
      if (sel.codec.toUpperCase() === 'OPUS') audio.addOpusCodec(sel.payloadType, sel.fmtp || undefined);
      else audio.addAudioCodec(sel.payloadType, `${sel.codec}/${sel.clockRate}`);
      audio.addSSRC(ssrc, CNAME, msid, `${msid}-audio`);
      track = this.#pc.addTrack(audio);
    }
    this.#pendingOpen++;
    track.onOpen(() => this.#trackOpened());
    track.onMessage((msg) => this.#onRtcp(msg));
    return track;
  }

  #trackOpened(): void {
    if (this.#closed || --this.#pendingOpen > 0) return;
    if (this.#openTimer) clearTimeout(this.#openTimer);
    if (this.#stream.ended) {
      this.close({ info: 'Stopped by publisher stop', failed: false });
      return;
    }
    this.#attached = true;
    this.#stream.addSink(this);
    this.emit('playing');
  }

  #onRtcp(msg: Buffer): void {
    const fb = parseRtcpFeedback(msg);
    if (!fb) {
      this.rtcpDropped++;
      return;
    }
    if (fb.pli || fb.fir) this.#stream.requestKeyframe();
  }

  async #negotiate(offer: string, settings: WebRtcSettings): Promise<string> {
    const gathered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      this.#pc.onGatheringStateChange((state) => {
        if (state === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.#pc.setRemoteDescription(offer, 'offer');
    if (this.#pc.gatheringState() !== 'complete') await gathered;
    const local = this.#pc.localDescription();
    if (!local) throw new Error('no local description');
    return addPublicCandidates(local.sdp, settings.publicAddresses);
  }
}

/** Repeats each host candidate with the configured public addresses (NAT, containers). */
function addPublicCandidates(sdp: string, publicAddresses: readonly string[]): string {
  if (publicAddresses.length === 0) return sdp;
  const lines = sdp.split('\r\n');
  const out: string[] = [];
  let foundation = 100;
  for (const line of lines) {
    out.push(line);
    const m = /^a=candidate:\S+ (\d) (UDP|udp) \d+ (\S+) (\d+) typ host/.exec(line);
    if (!m) continue;
    for (const addr of publicAddresses) {
      if (addr === m[3]) continue;
      out.push(`a=candidate:${foundation++} ${m[1]} UDP 2113929471 ${addr} ${m[4]} typ host`);
    }
  }
  return out.join('\r\n');
}
