/** Media kinds a stream can carry. */
export type MediaKind = 'audio' | 'video';

/** Audio codecs sipcast relays without transcoding. */
export type AudioCodec = 'opus' | 'PCMU' | 'PCMA';

/** Video codecs sipcast relays without transcoding. */
export type VideoCodec = 'H264';

export interface AudioTrackInfo {
  readonly kind: 'audio';
  readonly codec: AudioCodec;
  readonly clockRate: number;
  readonly channels: number;
}

export interface VideoTrackInfo {
  readonly kind: 'video';
  readonly codec: VideoCodec;
  readonly clockRate: 90000;
  /** profile-level-id the source produces, when known (hex, e.g. "42e01f"). */
  readonly profileLevelId?: string;
}

/** The tracks a publisher feeds into a stream. */
export interface MediaDescription {
  readonly audio?: AudioTrackInfo;
  readonly video?: VideoTrackInfo;
}

/**
 * What the stream registry needs from whoever feeds a stream (a SIP call, the demo clip).
 * The registry knows nothing else about it.
 */
export interface StreamPublisher {
  /** True when requestKeyframe() makes the source send an IDR soon (a SIP peer); false for a clip. */
  readonly canProduceKeyframe: boolean;
  /** Ask for a new keyframe. Called already coalesced and rate-limited by the stream. */
  requestKeyframe(): void;
}

export const RTP_CLOCK = { opus: 48000, PCMU: 8000, PCMA: 8000, H264: 90000 } as const;
