/**
 * Zero-copy accessors for RTP packets held in Buffers (RFC 3550 §5.1).
 * The hot path reads and patches headers in place; nothing here allocates.
 */
export const RTP_HEADER_SIZE = 12;
/** Packets above this size are dropped (no path MTU carries them; guards the parsers). */
export const RTP_MAX_PACKET_SIZE = 1500;

/** Returns the payload offset, or -1 when the buffer is not a well-formed RTP packet. */
export function rtpPayloadOffset(buf: Buffer): number {
  const len = buf.length;
  if (len < RTP_HEADER_SIZE || len > RTP_MAX_PACKET_SIZE) return -1;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return -1;
  let off = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (off + 4 > len) return -1;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = len;
  if (b0 & 0x20) {
    const pad = buf[len - 1]!;
    if (pad === 0) return -1;
    end -= pad;
  }
  return off <= end ? off : -1;
}

/** Payload end (excludes RTP padding). Assumes rtpPayloadOffset() accepted the packet. */
export function rtpPayloadEnd(buf: Buffer): number {
  return buf[0]! & 0x20 ? buf.length - buf[buf.length - 1]! : buf.length;
}

export const rtpPayloadType = (buf: Buffer): number => buf[1]! & 0x7f;
export const rtpMarker = (buf: Buffer): boolean => (buf[1]! & 0x80) !== 0;
export const rtpSeq = (buf: Buffer): number => buf.readUInt16BE(2);
export const rtpTimestamp = (buf: Buffer): number => buf.readUInt32BE(4);
export const rtpSsrc = (buf: Buffer): number => buf.readUInt32BE(8);

export function setRtpPayloadType(buf: Buffer, pt: number): void {
  buf[1] = (buf[1]! & 0x80) | pt;
}
export function setRtpSeq(buf: Buffer, seq: number): void {
  buf.writeUInt16BE(seq & 0xffff, 2);
}
export function setRtpTimestamp(buf: Buffer, ts: number): void {
  buf.writeUInt32BE(ts >>> 0, 4);
}
export function setRtpSsrc(buf: Buffer, ssrc: number): void {
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

/** Writes a 12-byte RTP header at the start of `buf`. */
export function writeRtpHeader(
  buf: Buffer,
  h: { payloadType: number; marker: boolean; seq: number; timestamp: number; ssrc: number },
): void {
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | h.payloadType;
  buf.writeUInt16BE(h.seq & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
}

/** True for RTCP packet types 192..223 sharing a port with RTP (RFC 5761 §4). */
export function isRtcp(buf: Buffer): boolean {
  if (buf.length < 8) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}
