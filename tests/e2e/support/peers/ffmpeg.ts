/**
 * ffprobe / ffmpeg helpers for the peer tests.
 *
 *   const info = await ffprobe('rtmp://127.0.0.1:11935/live/test');      // or a file path
 *   info.streams.find((s) => s.codec_type === 'video')?.width            // 640
 *
 *   const push = await startRtmpPush({ url, audio: 'aac', durationSec: 20 });   // testsrc2 + sine, real time
 *   await push.stop();
 */
import path from 'node:path';
import { makeRunDir, requireBinary, runBounded, spawnPeer, type PeerExit, type PeerProcess } from './process';

export interface FfprobeStream {
  index: number;
  codec_name?: string;
  codec_type?: 'video' | 'audio' | 'data' | 'subtitle' | string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  nb_read_packets?: string;
  [key: string]: unknown;
}

export interface FfprobeResult {
  streams: FfprobeStream[];
  format?: { format_name?: string; duration?: string; [key: string]: unknown };
}

export interface FfprobeOptions {
  /** Kill ffprobe after this long (it can hang on a live URL with no data). Default 15000 ms. */
  timeoutMs?: number;
  /** Decode and count frames (-count_frames): slow on long files. */
  countFrames?: boolean;
  /** Extra input options placed before -i, e.g. ['-f', 'h264']. */
  inputArgs?: string[];
}

/** Runs ffprobe -show_streams -show_format -of json on a URL or file and returns the parsed JSON. */
export async function ffprobe(input: string, opts: FfprobeOptions = {}): Promise<FfprobeResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const args = [
    '-hide_banner', '-v', 'error',
    ...(opts.countFrames ? ['-count_frames'] : []),
    '-show_streams', '-show_format', '-of', 'json',
    ...(opts.inputArgs ?? []),
    '-i', input,
  ];
  const r = await runBounded(`ffprobe ${input}`, requireBinary('ffprobe'), args, { timeoutMs });
  if (r.code !== 0) throw new Error(`ffprobe ${input} failed (code ${r.code}): ${r.stderr.trim().slice(-2000)}`);
  const parsed = JSON.parse(r.stdout) as Partial<FfprobeResult>;
  return { streams: parsed.streams ?? [], format: parsed.format };
}

export type PushAudio = 'aac' | 'pcmu' | 'pcma' | 'none';

export interface RtmpPushOptions {
  url: string;
  /** Default 'aac' (44.1 kHz stereo). */
  audio?: PushAudio;
  /** Default 30 s (ffmpeg -t); real time (-re). */
  durationSec?: number;
  size?: string;
  fps?: number;
}

export interface RtmpPush {
  readonly process: PeerProcess;
  logs(): string;
  stop(): Promise<PeerExit>;
}

/** ffmpeg pushing testsrc2 (H.264 constrained baseline, GOP 2 s) + a sine tone to an RTMP URL in real time. */
export async function startRtmpPush(opts: RtmpPushOptions): Promise<RtmpPush> {
  const bin = requireBinary('ffmpeg');
  const audio = opts.audio ?? 'aac';
  const dur = opts.durationSec ?? 30;
  const fps = opts.fps ?? 25;
  const audioIn: Record<PushAudio, string[]> = {
    aac: ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=44100'],
    pcmu: ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=8000'],
    pcma: ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=8000'],
    none: [],
  };
  const audioEnc: Record<PushAudio, string[]> = {
    aac: ['-c:a', 'aac', '-b:a', '96k', '-ar', '44100', '-ac', '2'],
    pcmu: ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1'],
    pcma: ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1'],
    none: ['-an'],
  };
  const runDir = makeRunDir('ffmpeg-push');
  const proc = spawnPeer({
    name: `ffmpeg-push ${opts.url}`,
    command: bin,
    args: [
      '-hide_banner', '-loglevel', 'warning', '-nostdin',
      '-re', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '640x360'}:rate=${fps}`,
      ...audioIn[audio],
      '-t', String(dur),
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
      '-g', String(fps * 2), '-b:v', '800k',
      ...audioEnc[audio],
      '-f', 'flv', opts.url,
    ],
    cwd: path.resolve(runDir),
    maxLifetimeSec: dur + 20,
    runDir,
  });
  return { process: proc, logs: () => proc.logs(), stop: () => proc.stop({ graceMs: 3_000 }) };
}
