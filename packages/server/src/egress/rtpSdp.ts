/**
 * The SDP file ffmpeg reads to receive a stream's RTP on loopback, and the payload types the
 * feeding sink asks the stream for.
 */
import type { AudioCodec, MediaDescription } from '../media/MediaTypes.js';

/** Payload type of H.264 towards ffmpeg. */
export const FFMPEG_VIDEO_PT = 96;
/** Payload type per audio codec towards ffmpeg (static types for G.711). */
export const FFMPEG_AUDIO_PT: Readonly<Record<AudioCodec, number>> = { opus: 111, PCMU: 0, PCMA: 8 };

const RTPMAP: Readonly<Record<AudioCodec, string>> = { opus: 'opus/48000/2', PCMU: 'PCMU/8000', PCMA: 'PCMA/8000' };

/** Which tracks go to ffmpeg and on which RTP ports (RTCP on port + 1). */
export interface FfmpegRtpLayout {
  readonly video?: { readonly port: number; readonly profileLevelId: string };
  readonly audio?: { readonly port: number; readonly codec: AudioCodec };
}

/** Chooses the layout for `media` given one port per track (video first). */
export function layoutFor(media: MediaDescription, ports: readonly number[], wantAudio = true, wantVideo = true): FfmpegRtpLayout {
  let i = 0;
  const video = wantVideo && media.video ? { port: ports[i++]!, profileLevelId: media.video.profileLevelId ?? '42e01f' } : undefined;
  const audio = wantAudio && media.audio ? { port: ports[i++]!, codec: media.audio.codec } : undefined;
  return { ...(video ? { video } : {}), ...(audio ? { audio } : {}) };
}

/** How many ports layoutFor() needs. */
export function portsNeeded(media: MediaDescription, wantAudio = true, wantVideo = true): number {
  return (wantVideo && media.video ? 1 : 0) + (wantAudio && media.audio ? 1 : 0);
}

/** The SDP text for ffmpeg's `-i x.sdp` (loopback, one m-line per track). */
export function buildFfmpegSdp(layout: FfmpegRtpLayout, sessionName = 'sipcast'): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', `s=${sessionName.replace(/[^\x20-\x7e]/g, '_')}`, 'c=IN IP4 127.0.0.1', 't=0 0'];
  if (layout.video) {
    const pt = FFMPEG_VIDEO_PT;
    lines.push(`m=video ${layout.video.port} RTP/AVP ${pt}`, `a=rtpmap:${pt} H264/90000`);
    lines.push(`a=fmtp:${pt} packetization-mode=1;profile-level-id=${layout.video.profileLevelId}`, 'a=recvonly');
  }
  if (layout.audio) {
    const pt = FFMPEG_AUDIO_PT[layout.audio.codec];
    lines.push(`m=audio ${layout.audio.port} RTP/AVP ${pt}`, `a=rtpmap:${pt} ${RTPMAP[layout.audio.codec]}`, 'a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}
