import type { MediaKind } from '../media/MediaTypes.js';

/** Why a stream stopped feeding a sink; the text is what viewers see as `info`. */
export interface StreamEnd {
  readonly info: string;
  /** True when the stream failed rather than ended normally. */
  readonly failed: boolean;
}

/**
 * A consumer of a live stream: a WebRTC viewer, an RTMP push, a recorder.
 * The stream calls these synchronously on its hot path.
 */
export interface MediaSink {
  readonly id: string;
  /** The RTP payload type this sink expects per kind; a kind without one is not sent. */
  readonly payloadTypes: Readonly<Partial<Record<MediaKind, number>>>;
  /**
   * Sends one RTP packet. The buffer is shared by every sink and rewritten after the call
   * returns: copy it if it must outlive the call.
   */
  sendRtp(kind: MediaKind, packet: Buffer): void;
  /** Sends an RTCP packet built by the stream (sender reports). */
  sendRtcp(kind: MediaKind, packet: Buffer): void;
  /** The source resolution changed (read from the SPS). */
  onResize(width: number, height: number): void;
  /** The stream ended; the sink has already been removed. */
  onStreamEnd(end: StreamEnd): void;
}
