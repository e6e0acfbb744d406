/**
 * Build-time H.264 helpers for make-clip: Annex B byte stream -> access units -> RFC 6184
 * packetization-mode 1 payloads. Not used on the server's hot path.
 */
import { NAL_TYPE } from '../../rtp/h264.js';

/** 1200-byte RTP packets minus the 12-byte header: room for SRTP and real-path MTUs. */
export const MAX_RTP_PAYLOAD = 1188;

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * Splits an Annex B byte stream into NAL units (subarrays, no copies). Handles 3- and 4-byte
 * start codes; trailing zero bytes belong to the next start code, not to the NAL.
 */
export function splitAnnexB(stream: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let i = stream.indexOf(START_CODE, 0);
  while (i >= 0) {
    const start = i + 3;
    const next = stream.indexOf(START_CODE, start);
    let end = next < 0 ? stream.length : next;
    while (end > start && stream[end - 1] === 0) end--;
    if (end > start) nals.push(stream.subarray(start, end));
    i = next;
  }
  return nals;
}

/** One coded picture with the parameter sets sent in front of it. */
export interface AccessUnit {
  readonly nals: readonly Buffer[];
  /** Contains an IDR slice, so a decoder can start here. */
  readonly idr: boolean;
}

const isVcl = (type: number): boolean => type >= NAL_TYPE.SLICE && type <= NAL_TYPE.IDR;

/**
 * Groups NAL units into access units (H.264 §7.4.1.2.3, simplified for single-layer streams):
 * a parameter set, SEI or AUD after a slice opens a new unit, and so does a slice whose
 * first_mb_in_slice is 0 (ue(v) 0 is a single '1' bit, so the top bit of the first payload byte).
 */
export function groupAccessUnits(nals: readonly Buffer[]): AccessUnit[] {
  const units: AccessUnit[] = [];
  let current: Buffer[] = [];
  let hasVcl = false;
  let idr = false;
  const flush = (): void => {
    if (current.length > 0) units.push({ nals: current, idr });
    current = [];
    hasVcl = false;
    idr = false;
  };
  for (const nal of nals) {
    const type = nal[0]! & 0x1f;
    if (isVcl(type)) {
      const firstMbZero = nal.length > 1 && (nal[1]! & 0x80) !== 0;
      if (hasVcl && firstMbZero) flush();
      hasVcl = true;
      if (type === NAL_TYPE.IDR) idr = true;
    } else if (hasVcl && (type === NAL_TYPE.SPS || type === NAL_TYPE.PPS || type === NAL_TYPE.SEI || type === NAL_TYPE.AUD)) {
      flush();
    }
    current.push(nal);
  }
  flush();
  return units;
}

/**
 * Packetizes one access unit (RFC 6184 packetization-mode 1): NAL units that fit go out as
 * single-NAL packets (so SPS and PPS travel alone, as baresip sends them), larger ones as FU-A
 * fragments of near-equal size so no runt packet trails a frame. The caller sets the marker
 * on the last payload returned.
 */
export function packetizeAccessUnit(nals: readonly Buffer[], maxPayload: number = MAX_RTP_PAYLOAD): Buffer[] {
  if (maxPayload < 3) throw new RangeError('maxPayload too small for FU-A');
  const out: Buffer[] = [];
  for (const nal of nals) {
    if (nal.length === 0) continue;
    if (nal.length <= maxPayload) {
      out.push(Buffer.from(nal));
      continue;
    }
    const header = nal[0]!;
    const body = nal.subarray(1);
    const room = maxPayload - 2;
    const count = Math.ceil(body.length / room);
    // The first `extra` fragments carry one byte more, so sizes differ by at most one.
    const base = Math.floor(body.length / count);
    const extra = body.length - base * count;
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const part = body.subarray(pos, pos + base + (i < extra ? 1 : 0));
      pos += part.length;
      const pkt = Buffer.alloc(2 + part.length);
      pkt[0] = (header & 0xe0) | NAL_TYPE.FU_A; // FU indicator keeps F and NRI
      pkt[1] = (i === 0 ? 0x80 : 0) | (i === count - 1 ? 0x40 : 0) | (header & 0x1f);
      part.copy(pkt, 2);
      out.push(pkt);
    }
  }
  return out;
}
