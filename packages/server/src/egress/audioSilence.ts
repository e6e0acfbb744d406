/**
 * Silent replacements for audio RTP packets, used to mute a push: the packet keeps its header
 * (sequence number, timestamp) and duration, only the payload becomes silence. The audio
 * timeline towards ffmpeg and the RTMP server therefore never has a gap.
 */
import type { AudioCodec } from '../media/MediaTypes.js';
import { rtpPayloadEnd, rtpPayloadOffset } from '../rtp/RtpHeader.js';

/** 48 kHz samples per opus frame, by the low two bits of a CELT config (RFC 6716 §3.1). */
const CELT_SIZES = [120, 240, 480, 960] as const;
/** A CELT frame whose first range-coded symbol is the "silence" flag (decodes to zeros). */
const CELT_SILENT_FRAME = [0xff, 0xfe] as const;
/** CELT-only fullband configs 28..31 = 2.5, 5, 10, 20 ms. */
const CELT_FB_CONFIG = 28;

/** Duration of an opus packet in 48 kHz samples (RFC 6716 §3.1); 0 when malformed. */
export function opusPacketSamples(payload: Buffer): number {
  if (payload.length < 1) return 0;
  const toc = payload[0]!;
  const config = toc >> 3;
  let frameSize: number;
  if (config < 12) frameSize = [480, 960, 1920, 2880][config % 4]!;
  else if (config < 16) frameSize = [480, 960][config % 2]!;
  else frameSize = CELT_SIZES[config % 4]!;
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code < 3) frames = 2;
  else {
    if (payload.length < 2) return 0;
    frames = payload[1]! & 0x3f;
  }
  const total = frames * frameSize;
  return total > 5760 ? 0 : total; // 120 ms is the maximum
}

/**
 * An opus payload of silence lasting `samples` (48 kHz) with the given stereo flag: CELT
 * fullband frames carrying the silence flag, one frame (code 0) or several equal ones (code 3).
 */
export function opusSilence(samples: number, stereo: boolean): Buffer {
  const s = stereo ? 0x04 : 0;
  const dur = samples > 0 && samples % 120 === 0 ? samples : 960;
  let idx = CELT_SIZES.length - 1;
  while (idx > 0 && dur % CELT_SIZES[idx]! !== 0) idx--;
  const frames = dur / CELT_SIZES[idx]!;
  const toc = ((CELT_FB_CONFIG + idx) << 3) | s;
  if (frames === 1) return Buffer.from([toc, ...CELT_SILENT_FRAME]);
  const out = [toc | 3, frames & 0x3f];
  for (let i = 0; i < frames; i++) out.push(...CELT_SILENT_FRAME);
  return Buffer.from(out);
}

/** G.711 byte values of silence. */
const G711_SILENCE: Readonly<Record<'PCMU' | 'PCMA', number>> = { PCMU: 0xff, PCMA: 0xd5 };

/**
 * A copy of the RTP `packet` whose payload is silence of the same duration; the header (and any
 * extension) is kept, padding is dropped. Returns undefined for a malformed packet.
 */
export function silentRtpPacket(packet: Buffer, codec: AudioCodec): Buffer | undefined {
  const off = rtpPayloadOffset(packet);
  if (off < 0) return undefined;
  const end = rtpPayloadEnd(packet);
  let payload: Buffer;
  if (codec === 'opus') {
    const original = packet.subarray(off, end);
    payload = opusSilence(opusPacketSamples(original), original.length > 0 && (original[0]! & 0x04) !== 0);
  } else {
    payload = Buffer.alloc(end - off, G711_SILENCE[codec]);
  }
  const out = Buffer.allocUnsafe(off + payload.length);
  packet.copy(out, 0, 0, off);
  payload.copy(out, off);
  out[0] = out[0]! & ~0x20; // no padding
  return out;
}

/** RTP clock ticks of the 20 ms silence packets of a lead-in. */
const LEAD_IN_TICKS: Readonly<Record<AudioCodec, number>> = { opus: 960, PCMU: 160, PCMA: 160 };

/**
 * Silent packets of 20 ms that precede `first` (sequence numbers and timestamps just before
 * it) and last about `durationMs` in all: prepended to an audio track so that it starts as early
 * in the timeline as the video it goes with. Empty for malformed packets or durations < 10 ms.
 */
export function silenceLeadIn(first: Buffer, codec: AudioCodec, durationMs: number): Buffer[] {
  const off = rtpPayloadOffset(first);
  const count = Math.min(100, Math.round(durationMs / 20));
  if (off < 0 || count <= 0) return [];
  const stereo = codec === 'opus' && first.length > off && (first[off]! & 0x04) !== 0;
  const payload = codec === 'opus' ? opusSilence(960, stereo) : Buffer.alloc(160, G711_SILENCE[codec]);
  const seq = first.readUInt16BE(2);
  const ts = first.readUInt32BE(4);
  const out: Buffer[] = [];
  for (let i = count; i >= 1; i--) {
    const p = Buffer.allocUnsafe(12 + payload.length);
    first.copy(p, 0, 0, 12);
    p[0] = 0x80; // V=2, no padding, extension or CSRCs
    p[1] = first[1]! & 0x7f; // no marker
    p.writeUInt16BE((seq - i) & 0xffff, 2);
    p.writeUInt32BE((ts - i * LEAD_IN_TICKS[codec]) >>> 0, 4);
    payload.copy(p, 12);
    out.push(p);
  }
  return out;
}
