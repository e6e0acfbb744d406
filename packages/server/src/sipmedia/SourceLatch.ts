/**
 * Decides which source address may feed one RTP (or RTCP) socket.
 *
 * With latching off, only the address from the peer's SDP is accepted (any port: many phones
 * send from a port other than the one they announce). With 'auto' (symmetric RTP, for peers
 * behind NAT whose SDP shows a private address; field-lessons.md #11, #16) the first valid packet
 * pins address and port. Another source can take over only after the pinned one has been silent
 * for `relatchAfterMs`, so a stray or spoofed packet cannot steal a live stream (the "RTP bleed"
 * class of attacks needs the victim stream to be idle).
 */

export type LatchingMode = 'off' | 'auto';

/** What to do with a packet: accept it, accept it and announce a new source, or drop it. */
export type LatchVerdict = 'accept' | 'latch' | 'reject';

/** Re-latching needs this much silence from the latched source (ms). */
export const RELATCH_AFTER_MS = 2000;

export class SourceLatch {
  #expected: string;
  #address: string | undefined;
  #port = 0;
  #lastSeen = 0;

  /** `expected` is the peer's address from SDP. */
  constructor(
    readonly mode: LatchingMode,
    expected: string,
    readonly relatchAfterMs = RELATCH_AFTER_MS,
  ) {
    this.#expected = normalizeAddress(expected);
  }

  /** The latched source, if any. */
  get source(): { address: string; port: number } | undefined {
    return this.#address === undefined ? undefined : { address: this.#address, port: this.#port };
  }

  /** Checks one valid packet's source at time `now` (ms, from the session clock). */
  check(address: string, port: number, now: number): LatchVerdict {
    const addr = normalizeAddress(address);
    if (this.mode === 'off') return addr === this.#expected ? 'accept' : 'reject';
    if (this.#address === addr && this.#port === port) {
      this.#lastSeen = now;
      return 'accept';
    }
    if (this.#address !== undefined && now - this.#lastSeen < this.relatchAfterMs) return 'reject';
    this.#address = addr;
    this.#port = port;
    this.#lastSeen = now;
    return 'latch';
  }

  /** New SDP from the peer (re-INVITE): new expected address; a latched source stays until replaced. */
  setExpected(address: string): void {
    this.#expected = normalizeAddress(address);
  }
}

/** dgram reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d; compare them as IPv4. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a.toLowerCase();
}
