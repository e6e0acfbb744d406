/**
 * RTCP packets the sink sends to ffmpeg's RTCP ports: a keep-alive and the BYE that ends its input.
 */
const RTCP_SSRC = 0x5c1ca57;

/**
 * An RTCP RR without report blocks, padded with a second RR to the 12 bytes ffmpeg's RTP
 * demuxer requires: ffmpeg ignores it, but it keeps ffmpeg's 10 s input timeout from firing while
 * a stream sends nothing (hold).
 */
export function rtcpKeepalive(): Buffer {
  const b = Buffer.alloc(16);
  for (const off of [0, 8]) {
    b[off] = 0x80;
    b[off + 1] = 201;
    b.writeUInt16BE(1, off + 2);
    b.writeUInt32BE(RTCP_SSRC, off + 4);
  }
  return b;
}

/** An RTCP BYE with a reason (12 bytes): ffmpeg ends its input once every track got one. */
export function rtcpBye(): Buffer {
  const b = Buffer.from([0x81, 203, 0, 2, 0, 0, 0, 0, 3, 0x65, 0x6e, 0x64]);
  b.writeUInt32BE(RTCP_SSRC, 4);
  return b;
}
