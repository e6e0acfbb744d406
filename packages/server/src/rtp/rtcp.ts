/**
 * The RTCP sipcast reads and writes: feedback from browsers (PLI, FIR, NACK, REMB) and the
 * reports and keyframe requests it sends itself (RFC 3550, RFC 4585, RFC 5104, RFC 2032).
 *
 * Incoming RTCP comes from untrusted peers, so the parser validates every length against the
 * datagram and gives up (null) rather than guessing.
 */
import { RTP_MAX_PACKET_SIZE } from './RtpHeader.js';

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 2032 §5.2.1). */
export const RTCP_PT = {
  LEGACY_FIR: 192,
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
} as const;

/** Feedback message types carried in the header's count field. */
const FMT_GENERIC_NACK = 1; // RTPFB
const FMT_PLI = 1; // PSFB
const FMT_FIR = 4; // PSFB, RFC 5104
const FMT_AFB = 15; // PSFB application layer feedback (REMB)

/** A hostile NACK list can expand 17-fold; more than this is never useful to retransmit. */
export const MAX_NACK_SEQS = 1024;

/** What one compound RTCP packet asks of a sender. */
export interface RtcpFeedback {
  /** Picture Loss Indication (PSFB FMT 1). */
  pli: boolean;
  /** Full Intra Request: RFC 5104 (PSFB FMT 4) or the legacy RFC 2032 packet (PT 192). */
  fir: boolean;
  /** Sequence numbers from Generic NACKs, PID+BLP expanded, at most {@link MAX_NACK_SEQS}. */
  nackSeqs: number[];
  /** Receiver-estimated maximum bitrate in bit/s (last REMB in the compound), if any. */
  remb?: number;
  /** SSRC of the reporting receiver: the first sender SSRC seen in the compound, else 0. */
  senderSsrc: number;
}

/**
 * Parses a (possibly compound or reduced-size) RTCP packet for the feedback a sender acts on.
 *
 * Returns null when any sub-packet is malformed: wrong version, a length running past the
 * datagram, bad padding, a report or feedback shorter than its type requires, or a packet type
 * outside 192..223. Never throws; the walk advances at least 4 bytes per step.
 */
export function parseRtcpFeedback(buf: Buffer): RtcpFeedback | null {
  const len = buf.length;
  if (len < 4 || len > RTP_MAX_PACKET_SIZE) return null;
  const fb: RtcpFeedback = { pli: false, fir: false, nackSeqs: [], senderSsrc: 0 };
  let haveSender = false;
  let p = 0;
  while (p < len) {
    if (p + 4 > len) return null;
    const b0 = buf[p]!;
    if (b0 >> 6 !== 2) return null;
    const count = b0 & 0x1f;
    const pt = buf[p + 1]!;
    const size = (buf.readUInt16BE(p + 2) + 1) * 4;
    if (p + size > len) return null;
    let end = p + size;
    if (b0 & 0x20) {
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > size - 4) return null;
      end -= pad;
    }
    const bodyLen = end - p;

    if (pt === RTCP_PT.SR || pt === RTCP_PT.RR || pt === RTCP_PT.RTPFB || pt === RTCP_PT.PSFB) {
      if (bodyLen < 8) return null;
      if (!haveSender) {
        fb.senderSsrc = buf.readUInt32BE(p + 4);
        haveSender = true;
      }
    }

    switch (pt) {
      case RTCP_PT.SR:
        if (bodyLen < 28 + count * 24) return null;
        break;
      case RTCP_PT.RR:
        if (bodyLen < 8 + count * 24) return null;
        break;
      case RTCP_PT.LEGACY_FIR:
        if (bodyLen < 8) return null;
        fb.fir = true;
        break;
      case RTCP_PT.RTPFB:
        if (bodyLen < 12) return null;
        if (count === FMT_GENERIC_NACK) {
          if ((bodyLen - 12) % 4 !== 0) return null;
          for (let q = p + 12; q < end; q += 4) addNack(fb.nackSeqs, buf.readUInt16BE(q), buf.readUInt16BE(q + 2));
        }
        break;
      case RTCP_PT.PSFB:
        if (bodyLen < 12) return null;
        if (count === FMT_PLI) {
          fb.pli = true;
        } else if (count === FMT_FIR) {
          // at least one FCI entry (SSRC + seq nr + reserved)
          if (bodyLen < 20) return null;
          fb.fir = true;
        } else if (count === FMT_AFB && bodyLen >= 20 && buf.toString('latin1', p + 12, p + 16) === 'REMB') {
          const numSsrc = buf[p + 16]!;
          if (bodyLen < 20 + numSsrc * 4) return null;
          const exp = buf[p + 17]! >> 2;
          const mantissa = ((buf[p + 17]! & 0x03) << 16) | buf.readUInt16BE(p + 18);
          fb.remb = mantissa * 2 ** exp;
        }
        break;
      default:
        // SDES, BYE, APP, XR and the rest: only their framing matters here.
        if (pt < 192 || pt > 223) return null;
    }
    p += size;
  }
  return fb;
}

function addNack(out: number[], pid: number, blp: number): void {
  if (out.length >= MAX_NACK_SEQS) return;
  out.push(pid);
  for (let i = 0; i < 16 && out.length < MAX_NACK_SEQS; i++) {
    if (blp & (1 << i)) out.push((pid + i + 1) & 0xffff);
  }
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2208988800;

/** Fields of a sender report without report blocks (we only send, so there is nothing to report on). */
export interface SenderReportInfo {
  ssrc: number;
  /** Wall-clock time in Unix epoch milliseconds (fractions allowed), e.g. Date.now(). */
  ntpTimeMs: number;
  /** RTP timestamp corresponding to ntpTimeMs, in the track clock. */
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** Builds an SR (PT 200, RC 0), 28 bytes. Receivers need it for A/V sync and RTT. */
export function buildSenderReport(info: SenderReportInfo): Buffer {
  const buf = Buffer.alloc(28);
  buf.writeUInt32BE(0x80c80006, 0);
  buf.writeUInt32BE(info.ssrc >>> 0, 4);
  const ms = Number.isFinite(info.ntpTimeMs) && info.ntpTimeMs > 0 ? info.ntpTimeMs : 0;
  const secs = Math.floor(ms / 1000);
  // The NTP seconds field wraps in 2036 (era 1); receivers only use it modulo 2^32 anyway.
  buf.writeUInt32BE((secs + NTP_UNIX_OFFSET_S) % 2 ** 32, 8);
  buf.writeUInt32BE(Math.min(Math.floor(((ms - secs * 1000) / 1000) * 2 ** 32), 2 ** 32 - 1), 12);
  buf.writeUInt32BE(info.rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(info.packetCount >>> 0, 20);
  buf.writeUInt32BE(info.octetCount >>> 0, 24);
  return buf;
}

/** Builds a reduced-size PLI (PSFB FMT 1), 12 bytes. */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const buf = Buffer.alloc(12);
  buf.writeUInt32BE(0x81ce0002, 0);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  return buf;
}

/**
 * Builds a legacy FIR (RFC 2032, PT 192), 8 bytes. baresip honours this one and ignores the
 * RFC 5104 FIR; send it compounded after {@link buildReceiverReport}.
 */
export function buildLegacyFir(mediaSsrc: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(0x80c00001, 0);
  buf.writeUInt32BE(mediaSsrc >>> 0, 4);
  return buf;
}

/** Builds an empty RR (RC 0) followed by SDES with one CNAME: the mandatory compound prefix. */
export function buildReceiverReport(senderSsrc: number, cname: string): Buffer {
  const rr = Buffer.alloc(8);
  rr.writeUInt32BE(0x80c90001, 0);
  rr.writeUInt32BE(senderSsrc >>> 0, 4);
  return Buffer.concat([rr, buildSdesCname(senderSsrc, cname)]);
}

/** Builds RR + SDES CNAME + PLI, the RFC 4585 compound form (keyframe-on-demand.md §3 (a)). */
export function buildReceiverReportPliCompound(senderSsrc: number, mediaSsrc: number, cname: string): Buffer {
  return Buffer.concat([buildReceiverReport(senderSsrc, cname), buildPli(senderSsrc, mediaSsrc)]);
}

/** SDES with one chunk: SSRC, CNAME item, END, padded to a 32-bit boundary (RFC 3550 §6.5). */
function buildSdesCname(ssrc: number, cname: string): Buffer {
  const text = utf8Truncate(cname, 255);
  // 4 SSRC + 2 item header + text + at least one END byte, rounded up to a word
  const chunkLen = (4 + 2 + text.length + 1 + 3) & ~3;
  const buf = Buffer.alloc(4 + chunkLen);
  buf.writeUInt8(0x81, 0);
  buf.writeUInt8(RTCP_PT.SDES, 1);
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  buf[8] = 1; // CNAME
  buf[9] = text.length;
  text.copy(buf, 10);
  return buf;
}

/** An SDES item holds at most 255 bytes; cut on a UTF-8 character boundary. */
function utf8Truncate(s: string, max: number): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return b;
  let n = max;
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--;
  return b.subarray(0, n);
}
