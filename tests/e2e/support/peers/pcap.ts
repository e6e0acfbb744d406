/**
 * Minimal libpcap writer (Ethernet link type, IPv4/UDP, 127.0.0.1 -> 127.0.0.1) for SIPp's pcap_play, and a
 * small RTP header parser shared with the RTP tap.
 *
 * SIPp replays a pcap with the recorded inter-packet timing and rewrites only addresses/ports; payload types,
 * sequence numbers, timestamps and SSRCs are sent as recorded. It recomputes the UDP checksum itself, so the
 * checksum field is left 0 here.
 */

export interface RtpHeader {
  version: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload (after CSRCs and header extension). */
  payloadOffset: number;
  /** Payload length (padding removed). */
  payloadLength: number;
}

/** Parses an RTP header; null for anything that is not RTP version 2 (or is RTCP, PT 72-79 with marker). */
export function parseRtp(buf: Buffer): RtpHeader | null {
  if (buf.length < 12) return null;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const version = b0 >> 6;
  if (version !== 2) return null;
  const pt = b1 & 0x7f;
  if (pt >= 72 && pt <= 79) return null; // RTCP SR/RR/SDES/BYE/APP (200-204 with the marker bit)
  const cc = b0 & 0x0f;
  let off = 12 + cc * 4;
  if (b0 & 0x10) {
    if (buf.length < off + 4) return null;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) end -= buf[buf.length - 1]!;
  if (off > end) return null;
  return {
    version,
    marker: (b1 & 0x80) !== 0,
    payloadType: pt,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payloadOffset: off,
    payloadLength: end - off,
  };
}

export interface PcapPacket {
  /** Capture time in microseconds (absolute, any epoch). */
  timeUs: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

function ipChecksum(hdr: Buffer): number {
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += hdr.readUInt16BE(i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** Serializes packets (sorted by time by the caller) into a libpcap file image. */
export function writePcap(packets: PcapPacket[]): Buffer {
  const chunks: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeInt32LE(0, 8);
  global.writeUInt32LE(0, 12);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  chunks.push(global);
  let ipId = 1;
  for (const p of packets) {
    const udpLen = 8 + p.payload.length;
    const ipLen = 20 + udpLen;
    const frameLen = 14 + ipLen;
    const rec = Buffer.alloc(16 + 14 + 20 + 8);
    const sec = Math.floor(p.timeUs / 1e6);
    rec.writeUInt32LE(sec, 0);
    rec.writeUInt32LE(Math.round(p.timeUs - sec * 1e6), 4);
    rec.writeUInt32LE(frameLen, 8);
    rec.writeUInt32LE(frameLen, 12);
    // Ethernet: zero MACs (as captured on lo), EtherType IPv4
    rec.writeUInt16BE(0x0800, 16 + 12);
    const ip = rec.subarray(30, 50);
    ip[0] = 0x45;
    ip.writeUInt16BE(ipLen, 2);
    ip.writeUInt16BE(ipId++ & 0xffff, 4);
    ip.writeUInt16BE(0x4000, 6); // DF
    ip[8] = 64;
    ip[9] = 17; // UDP
    ip.writeUInt32BE(0x7f000001, 12);
    ip.writeUInt32BE(0x7f000001, 16);
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const udp = rec.subarray(50, 58);
    udp.writeUInt16BE(p.srcPort, 0);
    udp.writeUInt16BE(p.dstPort, 2);
    udp.writeUInt16BE(udpLen, 4);
    chunks.push(rec, p.payload);
  }
  return Buffer.concat(chunks);
}

/** Reads back the UDP packets of a pcap written by writePcap (used by the self-check and for debugging). */
export function readPcapUdp(file: Buffer): PcapPacket[] {
  const out: PcapPacket[] = [];
  if (file.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('pcap: not a little-endian microsecond libpcap file');
  let off = 24;
  while (off + 16 <= file.length) {
    const sec = file.readUInt32LE(off);
    const usec = file.readUInt32LE(off + 4);
    const incl = file.readUInt32LE(off + 8);
    const frame = file.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 17) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    const u = 14 + ihl;
    out.push({
      timeUs: sec * 1e6 + usec,
      srcPort: frame.readUInt16BE(u),
      dstPort: frame.readUInt16BE(u + 2),
      payload: frame.subarray(u + 8, u + frame.readUInt16BE(u + 4)),
    });
  }
  return out;
}
