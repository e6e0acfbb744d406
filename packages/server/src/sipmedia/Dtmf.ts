/**
 * RFC 4733 telephone-event payloads (DTMF over RTP): the digit table, the 4-byte payload, and
 * the packet plan for one digit.
 */

/** Event codes for the DTMF keys (RFC 4733 §3.2). */
const EVENT_CODES: Readonly<Record<string, number>> = {
  '0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9,
  '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15,
};

/** Most digits one sendDtmf() call accepts (an IVR PIN or extension, not a file transfer). */
export const MAX_DTMF_DIGITS = 64;

/** The event code for a DTMF key (0-9 * # A-D, letters case-insensitive), else undefined. */
export function dtmfEventCode(key: string): number | undefined {
  return key.length === 1 ? EVENT_CODES[key.toUpperCase()] : undefined;
}

/**
 * Validates a digit string and maps it to event codes.
 * @throws RangeError naming the first bad key, or for an empty or too long string.
 */
export function dtmfEventCodes(digits: string): number[] {
  if (digits.length === 0 || digits.length > MAX_DTMF_DIGITS) {
    throw new RangeError(`DTMF needs 1..${MAX_DTMF_DIGITS} digits, got ${digits.length}`);
  }
  return [...digits].map((k, i) => {
    const code = dtmfEventCode(k);
    if (code === undefined) throw new RangeError(`invalid DTMF key ${JSON.stringify(k)} at position ${i}`);
    return code;
  });
}

/** One telephone-event payload (RFC 4733 §2.3). */
export interface TelephoneEvent {
  event: number;
  end: boolean;
  /** Power level in -dBm0, 0..63. */
  volume: number;
  /** Duration so far in RTP timestamp units, 0..65535. */
  duration: number;
}

/** Writes the 4-byte payload: event, E|R|volume, duration. */
export function writeTelephoneEvent(buf: Buffer, offset: number, e: TelephoneEvent): void {
  buf[offset] = e.event & 0xff;
  buf[offset + 1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  buf.writeUInt16BE(e.duration & 0xffff, offset + 2);
}

/** Reads a telephone-event payload, or null when it is shorter than 4 bytes. */
export function readTelephoneEvent(buf: Buffer, offset: number): TelephoneEvent | null {
  if (offset < 0 || offset + 4 > buf.length) return null;
  return {
    event: buf[offset]!,
    end: (buf[offset + 1]! & 0x80) !== 0,
    volume: buf[offset + 1]! & 0x3f,
    duration: buf.readUInt16BE(offset + 2),
  };
}

/**
 * The payloads for one key press: an update every `packetMs` with the growing duration (the
 * first carries the RTP marker), then the final duration with the end bit three times
 * (RFC 4733 §2.5.1.4: the end packet is repeated because it may be lost).
 *
 * The duration field is 16 bits, so the press is clamped to 65535 timestamp units (1.36 s at
 * 48 kHz); longer presses would need RFC 4733 §2.5.2.3 segments, which nobody asks of a gateway.
 */
export function dtmfPayloads(event: number, clockRate: number, durationMs: number, volume: number, packetMs = 20): TelephoneEvent[] {
  const total = Math.min(0xffff, Math.max(1, Math.round((durationMs * clockRate) / 1000)));
  const step = Math.max(1, Math.round((packetMs * clockRate) / 1000));
  const out: TelephoneEvent[] = [];
  for (let d = step; d < total; d += step) out.push({ event, end: false, volume, duration: d });
  for (let i = 0; i < 3; i++) out.push({ event, end: true, volume, duration: total });
  return out;
}
