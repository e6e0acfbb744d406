/**
 * "SCLP" clip container, version 1: pre-packetized RTP payloads, so the demo stream needs no
 * encoder or demuxer at run time. All integers are big-endian (network order, like RTP).
 *
 * ```
 * header (16 bytes)
 *   0  4  magic "SCLP"
 *   4  1  version = 1
 *   5  1  track count T (1..8)
 *   6  2  reserved, 0
 *   8  4  duration in ms (the loop length; every track's timestamps are below it)
 *  12  4  packet record count N
 * track table (T × 8 bytes)
 *   0  1  kind: 0 audio, 1 video
 *   1  1  codec: 0 H264, 1 opus, 2 PCMU, 3 PCMA
 *   2  1  channels (H264 0, opus 2 as RFC 7587 signals it, PCMU/PCMA 1)
 *   3  1  reserved, 0
 *   4  4  RTP clock rate (must match the codec: 90000, 48000, 8000, 8000)
 * packet records (N, in non-decreasing send time across tracks)
 *   0  1  track index
 *   1  1  flags: bit0 RTP marker, bit1 keyframe start (first packet of an IDR access unit,
 *         video only); other bits 0
 *   2  4  RTP timestamp relative to the clip start, in the track clock
 *   6  2  payload length L (1..1188, so packets stay <= 1200 bytes with the RTP header)
 *   8  L  RTP payload, ready to send (H.264 per RFC 6184 packetization-mode 1)
 * trailer
 *   0  4  CRC-32 (IEEE, as zlib) of every byte before it
 * ```
 * A video track must start with a keyframe so the clip can loop seamlessly.
 */
import { readFileSync } from 'node:fs';
import { RTP_CLOCK, type MediaKind } from '../MediaTypes.js';

/** Codecs a clip track can hold. */
export type ClipCodec = 'H264' | 'opus' | 'PCMU' | 'PCMA';

/** One track of a clip. */
export interface ClipTrack {
  readonly kind: MediaKind;
  readonly codec: ClipCodec;
  readonly clockRate: number;
  readonly channels: number;
}

/** One RTP payload with the header fields the clip fixes. */
export interface ClipPacket {
  readonly track: number;
  readonly marker: boolean;
  /** First packet of an IDR access unit (its SPS): a decoder can start here. */
  readonly keyframe: boolean;
  /** Relative to the clip start, in the track clock; below the track's loop duration. */
  readonly timestamp: number;
  readonly payload: Buffer;
}

/** A loaded clip: packets across all tracks in send order. */
export interface Clip {
  readonly durationMs: number;
  readonly tracks: readonly ClipTrack[];
  readonly packets: readonly ClipPacket[];
}

/** Thrown for anything that is not a valid SCLP v1 clip (and for invalid clips given to writeClip). */
export class ClipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClipFormatError';
  }
}

export const CLIP_MAGIC = 'SCLP';
export const CLIP_VERSION = 1;
export const CLIP_MAX_PAYLOAD = 1188;
const MAX_TRACKS = 8;
/** One hour: anything longer is not a demo loop and would only waste memory. */
const MAX_DURATION_MS = 3_600_000;
const HEADER_SIZE = 16;
const TRACK_SIZE = 8;
const RECORD_HEADER = 8;
const FLAG_MARKER = 1;
const FLAG_KEYFRAME = 2;

const CODECS: readonly ClipCodec[] = ['H264', 'opus', 'PCMU', 'PCMA'];
const CHANNELS: Readonly<Record<ClipCodec, number>> = { H264: 0, opus: 2, PCMU: 1, PCMA: 1 };

/** Loop length of a track in its own clock (exact: every clock rate is a multiple of 1000). */
export function trackDurationTs(clip: Pick<Clip, 'durationMs'>, track: ClipTrack): number {
  return (clip.durationMs * track.clockRate) / 1000;
}

function validateTrack(t: ClipTrack, i: number): void {
  const fail = (why: string): never => {
    throw new ClipFormatError(`track ${i}: ${why}`);
  };
  if (!CODECS.includes(t.codec)) fail(`unknown codec ${String(t.codec)}`);
  if ((t.codec === 'H264') !== (t.kind === 'video')) fail(`codec ${t.codec} does not fit kind ${t.kind}`);
  if (t.clockRate !== RTP_CLOCK[t.codec]) fail(`clock rate ${t.clockRate} is wrong for ${t.codec}`);
  if (t.channels !== CHANNELS[t.codec]) fail(`channels ${t.channels} is wrong for ${t.codec}`);
}

/**
 * Checks the invariants shared by reader and writer: packet fields in range, per-track
 * timestamps non-decreasing and inside the loop, global send-time order, video starts on a
 * keyframe, every track has packets.
 */
function validateClip(clip: Clip): void {
  const { tracks, packets, durationMs } = clip;
  if (tracks.length < 1 || tracks.length > MAX_TRACKS) throw new ClipFormatError(`track count ${tracks.length}`);
  if (!Number.isInteger(durationMs) || durationMs < 1 || durationMs > MAX_DURATION_MS) {
    throw new ClipFormatError(`duration ${durationMs} ms out of range`);
  }
  tracks.forEach(validateTrack);
  const lastTs = tracks.map(() => -1);
  let lastTimeMs = 0;
  packets.forEach((p, n) => {
    const fail = (why: string): never => {
      throw new ClipFormatError(`packet ${n}: ${why}`);
    };
    const track = tracks[p.track];
    if (!Number.isInteger(p.track) || track === undefined) return fail(`bad track ${p.track}`);
    if (p.payload.length < 1 || p.payload.length > CLIP_MAX_PAYLOAD) fail(`payload length ${p.payload.length}`);
    if (!Number.isInteger(p.timestamp) || p.timestamp < 0 || p.timestamp >= trackDurationTs(clip, track)) {
      fail(`timestamp ${p.timestamp} outside the loop`);
    }
    if (p.keyframe && track.kind !== 'video') fail('keyframe flag on an audio packet');
    if (lastTs[p.track] === -1 && track.kind === 'video' && !p.keyframe) fail('video does not start with a keyframe');
    if (p.timestamp < lastTs[p.track]!) fail('timestamp goes backwards');
    lastTs[p.track] = p.timestamp;
    const timeMs = (p.timestamp * 1000) / track.clockRate;
    // 1 µs slack: times of different clocks are compared as floating point
    if (timeMs < lastTimeMs - 1e-3) fail('records out of send-time order');
    lastTimeMs = Math.max(lastTimeMs, timeMs);
  });
  lastTs.forEach((ts, i) => {
    if (ts === -1) throw new ClipFormatError(`track ${i} has no packets`);
  });
}

/**
 * Serializes a clip. Packets are stably sorted into send-time order first, so callers can add
 * tracks one after another.
 * @throws ClipFormatError when the clip breaks a format rule.
 */
export function writeClip(clip: Clip): Buffer {
  const timeOf = (p: ClipPacket): number => (p.timestamp * 1000) / (clip.tracks[p.track]?.clockRate ?? 1);
  const packets = clip.packets
    .map((p, i) => ({ p, i, t: timeOf(p) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.p);
  validateClip({ ...clip, packets });

  const size = HEADER_SIZE + clip.tracks.length * TRACK_SIZE + packets.reduce((s, p) => s + RECORD_HEADER + p.payload.length, 0) + 4;
  const buf = Buffer.alloc(size);
  buf.write(CLIP_MAGIC, 0, 'latin1');
  buf[4] = CLIP_VERSION;
  buf[5] = clip.tracks.length;
  buf.writeUInt32BE(clip.durationMs, 8);
  buf.writeUInt32BE(packets.length, 12);
  let p = HEADER_SIZE;
  for (const t of clip.tracks) {
    buf[p] = t.kind === 'video' ? 1 : 0;
    buf[p + 1] = CODECS.indexOf(t.codec);
    buf[p + 2] = t.channels;
    buf.writeUInt32BE(t.clockRate, p + 4);
    p += TRACK_SIZE;
  }
  for (const pkt of packets) {
    buf[p] = pkt.track;
    buf[p + 1] = (pkt.marker ? FLAG_MARKER : 0) | (pkt.keyframe ? FLAG_KEYFRAME : 0);
    buf.writeUInt32BE(pkt.timestamp, p + 2);
    buf.writeUInt16BE(pkt.payload.length, p + 6);
    pkt.payload.copy(buf, p + RECORD_HEADER);
    p += RECORD_HEADER + pkt.payload.length;
  }
  buf.writeUInt32BE(crc32(buf.subarray(0, p)), p);
  return buf;
}

/**
 * Parses and validates an SCLP v1 clip. Payloads are subarrays of `buf` (no copies).
 * @throws ClipFormatError on any deviation from the format.
 */
export function readClip(buf: Buffer): Clip {
  if (buf.length < HEADER_SIZE + 4) throw new ClipFormatError('file too short');
  if (buf.toString('latin1', 0, 4) !== CLIP_MAGIC) throw new ClipFormatError('bad magic');
  if (buf[4] !== CLIP_VERSION) throw new ClipFormatError(`unsupported version ${buf[4]}`);
  const trackCount = buf[5]!;
  if (buf.readUInt16BE(6) !== 0) throw new ClipFormatError('reserved header bits set');
  const durationMs = buf.readUInt32BE(8);
  const count = buf.readUInt32BE(12);
  const bodyEnd = buf.length - 4;
  if (crc32(buf.subarray(0, bodyEnd)) !== buf.readUInt32BE(bodyEnd)) throw new ClipFormatError('CRC mismatch');
  if (trackCount < 1 || trackCount > MAX_TRACKS) throw new ClipFormatError(`track count ${trackCount}`);
  // Every record takes at least 9 bytes: refuse counts the file cannot hold before allocating.
  if (count > (bodyEnd - HEADER_SIZE) / (RECORD_HEADER + 1)) throw new ClipFormatError('packet count exceeds file size');

  let p = HEADER_SIZE;
  if (p + trackCount * TRACK_SIZE > bodyEnd) throw new ClipFormatError('truncated track table');
  const tracks: ClipTrack[] = [];
  for (let i = 0; i < trackCount; i++, p += TRACK_SIZE) {
    const kind = buf[p]!;
    const codec = CODECS[buf[p + 1]!];
    if (kind > 1 || codec === undefined || buf[p + 3] !== 0) throw new ClipFormatError(`track ${i}: bad kind/codec`);
    tracks.push({ kind: kind === 1 ? 'video' : 'audio', codec, channels: buf[p + 2]!, clockRate: buf.readUInt32BE(p + 4) });
  }

  const packets: ClipPacket[] = [];
  for (let n = 0; n < count; n++) {
    if (p + RECORD_HEADER > bodyEnd) throw new ClipFormatError(`packet ${n}: truncated record`);
    const flags = buf[p + 1]!;
    if (flags & ~(FLAG_MARKER | FLAG_KEYFRAME)) throw new ClipFormatError(`packet ${n}: unknown flags`);
    const len = buf.readUInt16BE(p + 6);
    const start = p + RECORD_HEADER;
    if (start + len > bodyEnd) throw new ClipFormatError(`packet ${n}: payload runs past the end`);
    packets.push({
      track: buf[p]!,
      marker: (flags & FLAG_MARKER) !== 0,
      keyframe: (flags & FLAG_KEYFRAME) !== 0,
      timestamp: buf.readUInt32BE(p + 2),
      payload: buf.subarray(start, start + len),
    });
    p = start + len;
  }
  if (p !== bodyEnd) throw new ClipFormatError('trailing bytes after the last record');
  const clip: Clip = { durationMs, tracks, packets };
  validateClip(clip);
  return clip;
}

/**
 * Reads and validates a clip file.
 * @throws ClipFormatError for invalid content; fs errors (missing file) propagate unchanged.
 */
export function loadClip(path: string): Clip {
  return readClip(readFileSync(path));
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, as zlib); Node 20's zlib.crc32 is not in every 20.x. */
function crc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
