/**
 * H.264 over RTP (RFC 6184): keyframe detection for the per-packet hot path and an SPS parser
 * for profile-level-id and picture size.
 *
 * Everything here reads attacker-controlled bytes (a SIP peer's RTP), so every read is bounds
 * checked and every loop advances by at least one byte or bit towards a fixed limit.
 */

/** NAL unit types (ITU-T H.264 Table 7-1) and RTP payload structure types (RFC 6184 §5.2). */
export const NAL_TYPE = {
  SLICE: 1,
  SLICE_DPA: 2,
  SLICE_DPB: 3,
  SLICE_DPC: 4,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_SEQUENCE: 10,
  END_STREAM: 11,
  FILLER: 12,
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  FU_A: 28,
  FU_B: 29,
} as const;

/** Result of {@link h264KeyInfo}: 0 ordinary packet, 1 carries an SPS, 2 starts an IDR (no SPS). */
export type H264KeyInfo = 0 | 1 | 2;

/**
 * Classifies one H.264 RTP payload for keyframe tracking.
 *
 * Returns 1 when the packet carries an SPS (single NAL or inside a STAP-A), 2 when it starts an
 * IDR slice without an SPS (single NAL, STAP-A, or FU-A with the start bit), else 0. An SPS wins
 * over an IDR because a decoder joining mid-stream needs the SPS first.
 * Never throws; out-of-range offsets and truncated aggregates just yield what was seen so far.
 */
export function h264KeyInfo(buf: Buffer, payloadOffset: number, payloadEnd: number): H264KeyInfo {
  const end = payloadEnd < buf.length ? payloadEnd : buf.length;
  if (!(payloadOffset >= 0) || payloadOffset >= end) return 0;
  const type = buf[payloadOffset]! & 0x1f;
  if (type === NAL_TYPE.SPS) return 1;
  if (type === NAL_TYPE.IDR) return 2;
  if (type === NAL_TYPE.FU_A) {
    if (payloadOffset + 1 >= end) return 0;
    const fuHeader = buf[payloadOffset + 1]!;
    return (fuHeader & 0x80) !== 0 && (fuHeader & 0x1f) === NAL_TYPE.IDR ? 2 : 0;
  }
  if (type === NAL_TYPE.STAP_A) {
    let idr = false;
    // Each step consumes the 2-byte size plus at least one NAL byte, so this terminates.
    let p = payloadOffset + 1;
    while (p + 2 < end) {
      const size = buf.readUInt16BE(p);
      p += 2;
      if (size === 0 || p + size > end) break;
      const t = buf[p]! & 0x1f;
      if (t === NAL_TYPE.SPS) return 1;
      if (t === NAL_TYPE.IDR) idr = true;
      p += size;
    }
    return idr ? 2 : 0;
  }
  return 0;
}

/**
 * Finds the SPS NAL unit in an H.264 RTP payload (single NAL or STAP-A).
 * Returns a subarray (no copy) or undefined. Never throws.
 */
export function findSps(buf: Buffer, payloadOffset: number, payloadEnd: number): Buffer | undefined {
  const end = payloadEnd < buf.length ? payloadEnd : buf.length;
  if (!(payloadOffset >= 0) || payloadOffset >= end) return undefined;
  const type = buf[payloadOffset]! & 0x1f;
  if (type === NAL_TYPE.SPS) return buf.subarray(payloadOffset, end);
  if (type !== NAL_TYPE.STAP_A) return undefined;
  let p = payloadOffset + 1;
  while (p + 2 < end) {
    const size = buf.readUInt16BE(p);
    p += 2;
    if (size === 0 || p + size > end) return undefined;
    if ((buf[p]! & 0x1f) === NAL_TYPE.SPS) return buf.subarray(p, p + size);
    p += size;
  }
  return undefined;
}

/** What sipcast needs from a sequence parameter set. */
export interface SpsInfo {
  readonly profileIdc: number;
  /** constraint_set0..5 flags plus reserved bits: the middle byte of profile-level-id. */
  readonly constraintFlags: number;
  readonly levelIdc: number;
  /** RFC 6184 profile-level-id: 6 lowercase hex chars, e.g. "42c01e". */
  readonly profileLevelId: string;
  /** Displayed size after frame cropping, in pixels. */
  readonly width: number;
  readonly height: number;
  readonly chromaFormatIdc: number;
  readonly frameMbsOnly: boolean;
}

/** Thrown by {@link parseSps} for anything that is not a well-formed SPS. */
export class H264ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'H264ParseError';
  }
}

/** Real SPSs are a few dozen bytes; scaling lists add at most ~200. Refuse absurd inputs early. */
const MAX_SPS_BYTES = 1024;
/** 8192 px (512 macroblocks) covers 8K; bigger is garbage or hostile. */
const MAX_MBS = 512;

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (7.3.2.1.1). */
const HIGH_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Strips emulation-prevention bytes (00 00 03 -> 00 00), giving the RBSP after the NAL header. */
function toRbsp(nal: Buffer): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** MSB-first bit reader over an RBSP; every read past the end throws H264ParseError. */
class BitReader {
  private pos = 0;
  private readonly bits: number;

  constructor(private readonly data: Uint8Array) {
    this.bits = data.length * 8;
  }

  u1(): number {
    if (this.pos >= this.bits) throw new H264ParseError('SPS truncated');
    const bit = (this.data[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  /** Exp-Golomb ue(v); more than 31 leading zeros cannot be a valid SPS field. */
  ue(): number {
    let zeros = 0;
    while (this.u1() === 0) {
      if (++zeros > 31) throw new H264ParseError('Exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** ue(v) that must lie in [0, max] for the syntax element to be valid. */
  ueMax(max: number, what: string): number {
    const v = this.ue();
    if (v > max) throw new H264ParseError(`${what} out of range: ${v}`);
    return v;
  }
}

/** Reads past a scaling_list() (7.3.2.1.1.1); the values themselves do not matter to us. */
function skipScalingList(r: BitReader, size: number): void {
  let lastScale = 8;
  let nextScale = 8;
  for (let j = 0; j < size; j++) {
    if (nextScale !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw new H264ParseError('delta_scale out of range');
      nextScale = (lastScale + delta + 256) % 256;
    }
    if (nextScale !== 0) lastScale = nextScale;
  }
}

/**
 * Parses an SPS NAL unit (header byte included, emulation-prevention bytes allowed).
 * @throws H264ParseError when the NAL is not a valid SPS.
 */
export function parseSps(nal: Buffer): SpsInfo {
  if (nal.length < 4) throw new H264ParseError('SPS too short');
  if (nal.length > MAX_SPS_BYTES) throw new H264ParseError('SPS too long');
  if ((nal[0]! & 0x9f) !== NAL_TYPE.SPS) throw new H264ParseError('not an SPS NAL unit');
  const rbsp = toRbsp(nal);
  const r = new BitReader(rbsp);

  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  r.ueMax(31, 'seq_parameter_set_id');

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ueMax(3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.u1() === 1;
    r.ueMax(6, 'bit_depth_luma_minus8');
    r.ueMax(6, 'bit_depth_chroma_minus8');
    r.u1(); // qpprime_y_zero_transform_bypass_flag
    if (r.u1() === 1) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.u1() === 1) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  r.ueMax(12, 'log2_max_frame_num_minus4');
  const pocType = r.ueMax(2, 'pic_order_cnt_type');
  if (pocType === 0) {
    r.ueMax(12, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (pocType === 1) {
    r.u1(); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ueMax(255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ueMax(16, 'max_num_ref_frames');
  r.u1(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ueMax(MAX_MBS - 1, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ueMax(MAX_MBS - 1, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.u1() === 1;
  if (!frameMbsOnly) r.u1(); // mb_adaptive_frame_field_flag
  r.u1(); // direct_8x8_inference_flag

  let width = widthMbs * 16;
  // Without frame_mbs_only a map unit is a field macroblock pair: two rows of 16.
  let height = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  if (r.u1() === 1) {
    const left = r.ueMax(8192, 'frame_crop_left_offset');
    const right = r.ueMax(8192, 'frame_crop_right_offset');
    const top = r.ueMax(8192, 'frame_crop_top_offset');
    const bottom = r.ueMax(8192, 'frame_crop_bottom_offset');
    // Crop offsets count chroma samples (Table 6-1), doubled vertically for field coding.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const cropUnitX = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const cropUnitY = (chromaArrayType === 1 ? 2 : 1) * (frameMbsOnly ? 1 : 2);
    width -= (left + right) * cropUnitX;
    height -= (top + bottom) * cropUnitY;
    if (width <= 0 || height <= 0) throw new H264ParseError('cropping exceeds picture size');
  }

  const hex = (v: number): string => v.toString(16).padStart(2, '0');
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    profileLevelId: hex(profileIdc) + hex(constraintFlags) + hex(levelIdc),
    width,
    height,
    chromaFormatIdc,
    frameMbsOnly,
  };
}
