/**
 * A loopback UDP sender that smooths bursts: live packets go out at once, but a burst (the
 * cached keyframe group a new sink gets in one go, up to megabytes) is spread over a few
 * milliseconds so that ffmpeg's socket receive buffer does not overflow. Order is kept.
 */
import dgram from 'node:dgram';

/** Packets sent back to back before the rest waits for the next millisecond. */
const BURST_PACKETS = 32;

interface Queued {
  readonly buf: Buffer;
  readonly port: number;
}

/** Counters of a sender. */
export interface PacedUdpCounters {
  packets: number;
  bytes: number;
  errors: number;
  /** Packets that had to wait for a later millisecond. */
  paced: number;
}

/** Sends datagrams to 127.0.0.1 from a socket bound to 127.0.0.1:0. */
export class PacedUdpSender {
  readonly counters: PacedUdpCounters = { packets: 0, bytes: 0, errors: 0, paced: 0 };
  readonly #socket: dgram.Socket;
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  #windowMs = 0;
  #inWindow = 0;
  #closed = false;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('error', () => this.counters.errors++);
  }

  static open(): Promise<PacedUdpSender> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new PacedUdpSender(s));
      });
    });
  }

  /** Sends `buf` (which the caller must not touch again) to 127.0.0.1:`port`. */
  send(buf: Buffer, port: number): void {
    if (this.#closed) return;
    if (this.#queue.length > 0) {
      this.#queue.push({ buf, port });
      this.counters.paced++;
      return;
    }
    const now = Math.floor(performance.now());
    if (now !== this.#windowMs) {
      this.#windowMs = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= BURST_PACKETS) {
      this.#queue.push({ buf, port });
      this.counters.paced++;
      this.#timer ??= setTimeout(() => this.#drain(), 1);
      return;
    }
    this.#inWindow++;
    this.#write(buf, port);
  }

  /** Sends at once, bypassing the queue (RTCP keep-alives and BYE). */
  sendNow(buf: Buffer, port: number): void {
    if (!this.#closed) this.#write(buf, port);
  }

  /** Packets waiting in the queue. */
  get queued(): number {
    return this.#queue.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#queue = [];
    try {
      this.#socket.close();
    } catch {
      /* already closed */
    }
  }

  #write(buf: Buffer, port: number): void {
    this.counters.packets++;
    this.counters.bytes += buf.length;
    this.#socket.send(buf, port, '127.0.0.1', (err) => {
      if (err) this.counters.errors++;
    });
  }

  #drain(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const batch = this.#queue.splice(0, BURST_PACKETS);
    for (const q of batch) this.#write(q.buf, q.port);
    this.#windowMs = Math.floor(performance.now());
    this.#inWindow = batch.length;
    if (this.#queue.length > 0) this.#timer = setTimeout(() => this.#drain(), 1);
  }
}
