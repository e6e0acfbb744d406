/**
 * ffmpeg arguments: the RTP input, the outputs of an RTMP push (FLV) and of a recording
 * (fragmented MP4), and the final remux. H.264 is always copied; audio becomes AAC, except G.711
 * on a push when `push_audio_codec=g711`.
 */
import type { PushAudioCodec } from './egressSettings.js';
import type { FfmpegRtpLayout } from './rtpSdp.js';

/** AAC encoding with gaps in the input timestamps filled by silence (keeps A/V in step). */
const AAC = ['-c:a', 'aac', '-b:a', '64k', '-ar', '48000', '-af', 'aresample=async=1:first_pts=0'];

/** What the audio of a push becomes, for the REST answer and the docs. */
export function pushAudioOut(layout: FfmpegRtpLayout, mode: PushAudioCodec): 'aac' | 'PCMU' | 'PCMA' | 'none' {
  const codec = layout.audio?.codec;
  if (!codec) return 'none';
  if (mode === 'g711' && (codec === 'PCMU' || codec === 'PCMA')) return codec;
  return 'aac';
}

/** Codec arguments shared by push and recording. */
function codecArgs(layout: FfmpegRtpLayout, audio: 'aac' | 'PCMU' | 'PCMA' | 'none'): string[] {
  const out: string[] = [];
  out.push(...(layout.video ? ['-c:v', 'copy'] : ['-vn']));
  if (audio === 'none') out.push('-an');
  else if (audio === 'aac') out.push(...AAC);
  else out.push('-c:a', 'copy');
  return out;
}

/** Output arguments of a push to `target` (rtmp:// or rtmps://). */
export function pushOutputArgs(layout: FfmpegRtpLayout, target: string, mode: PushAudioCodec): string[] {
  return [
    ...codecArgs(layout, pushAudioOut(layout, mode)),
    // a stalled RTMP server is a failure too (10 s without progress on the socket)
    '-rw_timeout', '10000000',
    '-f', 'flv', '-flvflags', 'no_duration_filesize',
    target,
  ];
}

/**
 * Output arguments of a recording: fragmented MP4 written as it goes (a fragment per keyframe
 * and at least every second, flushed at once), so that whatever happens to ffmpeg or the
 * server, the file holds everything but the last second and plays.
 */
export function recordOutputArgs(layout: FfmpegRtpLayout, file: string): string[] {
  return [
    ...codecArgs(layout, layout.audio ? 'aac' : 'none'),
    '-f', 'mp4',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof',
    '-frag_duration', '1000000',
    '-flush_packets', '1',
    '-y', file,
  ];
}

/** Arguments of the remux that turns the fragmented file into a plain MP4 with moov first. */
export function finaliseArgs(fragmented: string, out: string): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', fragmented, '-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', '-y', out];
}

/** Input options: RTP from an SDP file on loopback, small probing so output starts fast. */
export function inputArgs(sdpPath: string): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning', '-progress', 'pipe:1',
    '-protocol_whitelist', 'file,udp,rtp',
    '-localaddr', '127.0.0.1',
    '-buffer_size', '4194304',
    '-reorder_queue_size', '0',
    '-analyzeduration', '1000000', '-probesize', '2000000',
    '-fflags', '+genpts',
    '-i', sdpPath,
  ];
}
