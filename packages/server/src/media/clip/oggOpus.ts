/**
 * Build-time reader for Ogg Opus files (RFC 3533 pages, RFC 7845 mapping) as written by
 * ffmpeg/libopus, so make-clip can lift Opus packets into RTP payloads unchanged (RFC 7587).
 * Single logical stream only; page CRCs are not checked (the input is our own ffmpeg output).
 */

/** Thrown for input that is not a single-stream Ogg Opus file. */
export class OggFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OggFormatError';
  }
}

const PAGE_HEADER = 27;

/** Returns the packets of the file's single logical stream, in order. */
export function readOggPackets(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  let serial: number | undefined;
  let p = 0;
  while (p < file.length) {
    if (p + PAGE_HEADER > file.length) throw new OggFormatError('truncated page header');
    if (file.toString('latin1', p, p + 4) !== 'OggS') throw new OggFormatError(`no capture pattern at ${p}`);
    if (file[p + 4] !== 0) throw new OggFormatError('unsupported Ogg version');
    const pageSerial = file.readUInt32LE(p + 14);
    if (serial === undefined) serial = pageSerial;
    else if (serial !== pageSerial) throw new OggFormatError('multiplexed Ogg streams are not supported');
    const segments = file[p + 26]!;
    const tableEnd = p + PAGE_HEADER + segments;
    if (tableEnd > file.length) throw new OggFormatError('truncated segment table');
    let body = tableEnd;
    for (let s = 0; s < segments; s++) {
      const lace = file[p + PAGE_HEADER + s]!;
      if (body + lace > file.length) throw new OggFormatError('truncated page body');
      partial.push(file.subarray(body, body + lace));
      body += lace;
      // A lacing value below 255 ends the packet; 255 means it continues (maybe on the next page).
      if (lace < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    p = body;
  }
  if (partial.length > 0) throw new OggFormatError('stream ends inside a packet');
  return packets;
}

/** What an Opus file's identification header (OpusHead) says. */
export interface OpusHead {
  readonly channels: number;
  readonly preSkip: number;
  readonly inputSampleRate: number;
}

/** Parses the OpusHead packet (RFC 7845 §5.1). */
export function parseOpusHead(packet: Buffer): OpusHead {
  if (packet.length < 19 || packet.toString('latin1', 0, 8) !== 'OpusHead') throw new OggFormatError('missing OpusHead');
  if ((packet[8]! & 0xf0) !== 0) throw new OggFormatError('unsupported OpusHead version');
  return { channels: packet[9]!, preSkip: packet.readUInt16LE(10), inputSampleRate: packet.readUInt32LE(12) };
}

/** Frame sizes in 48 kHz samples per TOC config (RFC 6716 §3.1, Table 2). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!; // SILK 10/20/40/60 ms
  if (config < 16) return [480, 960][config & 1]!; // hybrid 10/20 ms
  return [120, 240, 480, 960][config & 3]!; // CELT 2.5/5/10/20 ms
}

/** Duration of one Opus packet in 48 kHz samples, from its TOC byte; 0 if unparseable. */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length < 1) return 0;
  const toc = packet[0]!;
  const code = toc & 3;
  let frames = 1;
  if (code === 1 || code === 2) frames = 2;
  else if (code === 3) {
    if (packet.length < 2) return 0;
    frames = packet[1]! & 0x3f;
  }
  return frames * frameSamples(toc >> 3);
}
