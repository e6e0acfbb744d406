/**
 * Build-time tool: turns ffmpeg intermediates into an SCLP clip (see ClipFormat.ts).
 *
 *   npx tsx packages/server/src/media/clip/make-clip.ts <dir> <out.sclip> [--fps 25]
 *
 * <dir> must hold video.h264 (Annex B, no B-frames, SPS+PPS before every IDR), audio.opus
 * (Ogg Opus, 20 ms frames), audio.pcmu and audio.pcma (raw 8 kHz G.711). The clip length is
 * the video's; audio tracks are cut to it. scripts/make-demo-clip.sh produces these.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NAL_TYPE, parseSps, type SpsInfo } from '../../rtp/h264.js';
import { RTP_CLOCK } from '../MediaTypes.js';
import { type ClipPacket, type ClipTrack, writeClip } from './ClipFormat.js';
import { groupAccessUnits, packetizeAccessUnit, splitAnnexB } from './h264Packetizer.js';
import { opusPacketSamples, parseOpusHead, readOggPackets } from './oggOpus.js';

const OPUS_FRAME_SAMPLES = 960; // 20 ms at 48 kHz
const G711_FRAME_BYTES = 160; // 20 ms at 8 kHz

/** NAL types a browser does not need: dropping them saves bytes (x264's SEI alone is ~600). */
const DROPPED_NALS: ReadonlySet<number> = new Set([NAL_TYPE.SEI, NAL_TYPE.AUD, NAL_TYPE.FILLER]);

interface VideoResult {
  packets: ClipPacket[];
  durationMs: number;
  sps: SpsInfo;
  keyframeTimesMs: number[];
}

function buildVideo(annexB: Buffer, track: number, fps: number): VideoResult {
  const ticksPerFrame = RTP_CLOCK.H264 / fps;
  if (!Number.isInteger(ticksPerFrame)) throw new Error(`fps ${fps} does not divide the 90 kHz clock`);
  const nals = splitAnnexB(annexB).filter((n) => !DROPPED_NALS.has(n[0]! & 0x1f));
  const units = groupAccessUnits(nals);
  if (units.length === 0 || !units[0]!.idr) throw new Error('video must start with an IDR');
  const durationMs = (units.length * 1000) / fps;
  if (!Number.isInteger(durationMs)) throw new Error(`${units.length} frames at ${fps} fps is not a whole ms`);

  let sps: SpsInfo | undefined;
  const packets: ClipPacket[] = [];
  const keyframeTimesMs: number[] = [];
  units.forEach((au, i) => {
    const types = au.nals.map((n) => n[0]! & 0x1f);
    if (au.idr) {
      // Viewers join at any IDR and never get sprop-parameter-sets, so each IDR needs its own.
      if (!types.includes(NAL_TYPE.SPS) || !types.includes(NAL_TYPE.PPS)) throw new Error(`IDR in frame ${i} lacks SPS/PPS`);
      const spsNal = au.nals[types.indexOf(NAL_TYPE.SPS)]!;
      sps ??= parseSps(spsNal);
      keyframeTimesMs.push((i * 1000) / fps);
    }
    const payloads = packetizeAccessUnit(au.nals);
    payloads.forEach((payload, k) => {
      packets.push({
        track,
        marker: k === payloads.length - 1,
        keyframe: au.idr && k === 0,
        timestamp: i * ticksPerFrame,
        payload,
      });
    });
  });
  if (!sps) throw new Error('no SPS found');
  return { packets, durationMs, sps, keyframeTimesMs };
}

function buildOpus(ogg: Buffer, track: number, durationMs: number): ClipPacket[] {
  const all = readOggPackets(ogg);
  if (all.length < 2) throw new Error('Ogg Opus file without headers');
  parseOpusHead(all[0]!);
  if (all[1]!.toString('latin1', 0, 8) !== 'OpusTags') throw new Error('missing OpusTags');
  const need = (durationMs * RTP_CLOCK.opus) / 1000 / OPUS_FRAME_SAMPLES;
  const frames = all.slice(2, 2 + need);
  if (frames.length < need) throw new Error(`opus: ${frames.length} packets, need ${need}`);
  return frames.map((payload, k) => {
    if (opusPacketSamples(payload) !== OPUS_FRAME_SAMPLES) throw new Error(`opus packet ${k} is not 20 ms`);
    return { track, marker: false, keyframe: false, timestamp: k * OPUS_FRAME_SAMPLES, payload: Buffer.from(payload) };
  });
}

function buildG711(raw: Buffer, track: number, durationMs: number): ClipPacket[] {
  const need = (durationMs * 8000) / 1000 / G711_FRAME_BYTES;
  if (raw.length < need * G711_FRAME_BYTES) throw new Error(`G.711: ${raw.length} bytes, need ${need * G711_FRAME_BYTES}`);
  return Array.from({ length: need }, (_, k) => ({
    track,
    marker: false,
    keyframe: false,
    timestamp: k * G711_FRAME_BYTES,
    payload: Buffer.from(raw.subarray(k * G711_FRAME_BYTES, (k + 1) * G711_FRAME_BYTES)),
  }));
}

/** Builds the clip from the intermediates in `dir` and writes it to `out`; returns a summary. */
export function makeClip(dir: string, out: string, fps = 25): string {
  const tracks: ClipTrack[] = [
    { kind: 'video', codec: 'H264', clockRate: RTP_CLOCK.H264, channels: 0 },
    { kind: 'audio', codec: 'opus', clockRate: RTP_CLOCK.opus, channels: 2 },
    { kind: 'audio', codec: 'PCMU', clockRate: RTP_CLOCK.PCMU, channels: 1 },
    { kind: 'audio', codec: 'PCMA', clockRate: RTP_CLOCK.PCMA, channels: 1 },
  ];
  const video = buildVideo(readFileSync(join(dir, 'video.h264')), 0, fps);
  const { durationMs } = video;
  const packets = [
    ...video.packets,
    ...buildOpus(readFileSync(join(dir, 'audio.opus')), 1, durationMs),
    ...buildG711(readFileSync(join(dir, 'audio.pcmu')), 2, durationMs),
    ...buildG711(readFileSync(join(dir, 'audio.pcma')), 3, durationMs),
  ];
  const file = writeClip({ durationMs, tracks, packets });
  writeFileSync(out, file);

  const secs = durationMs / 1000;
  const count = (t: number): ClipPacket[] => packets.filter((p) => p.track === t);
  const kbps = (t: number): string => ((count(t).reduce((s, p) => s + p.payload.length, 0) * 8) / secs / 1000).toFixed(0);
  const v = count(0);
  return [
    `${out}: ${file.length} bytes, ${secs} s, ${((file.length * 8) / secs / 1000).toFixed(0)} kbit/s overall`,
    `video: ${video.sps.width}x${video.sps.height} profile-level-id ${video.sps.profileLevelId}, ` +
      `${v.length} packets (${(v.length / secs).toFixed(1)} pps, max payload ${Math.max(...v.map((p) => p.payload.length))} B), ` +
      `${kbps(0)} kbit/s payload, keyframes at ${video.keyframeTimesMs.map((t) => t / 1000).join(', ')} s`,
    ...[1, 2, 3].map((t) => `${tracks[t]!.codec}: ${count(t).length} packets (${(count(t).length / secs).toFixed(1)} pps), ${kbps(t)} kbit/s payload`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const fpsAt = args.indexOf('--fps');
  const fps = fpsAt >= 0 ? Number(args.splice(fpsAt, 2)[1]) : 25;
  const [dir, out] = args;
  if (!dir || !out || !(fps > 0)) {
    console.error('usage: make-clip.ts <dir> <out.sclip> [--fps 25]');
    process.exit(2);
  }
  try {
    console.log(makeClip(dir, out, fps));
  } catch (err) {
    console.error(`make-clip: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
