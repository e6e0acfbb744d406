/**
 * One SIP-over-TCP connection (RFC 3261 §18.3), inbound or outbound: frames the byte stream
 * with {@link SipStreamFramer}, answers RFC 5626 CRLFCRLF pings with a CRLF pong and closes
 * itself after a period without traffic so idle connections cannot pile up (AST-2016-005).
 */
import type { Socket } from 'node:net';
import { SipParseError, SipStreamFramer, type SipMessage } from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { SipTransportError } from './SipTransportError.js';

/** Events of a {@link TcpConnection}. */
export interface TcpConnectionEvents extends Record<string, unknown[]> {
  /** A complete, valid message. */
  message: [msg: SipMessage];
  /** A delimited message that failed to parse (`fatal` false), or lost framing (`fatal` true; the connection closes). */
  invalid: [err: SipParseError, fatal: boolean];
  /** A keep-alive ping was answered. */
  keepalive: [];
  /** Closed for `reason` ("idle", "peer", "error", "local", "framing", "overflow"). */
  closed: [reason: string];
}

/** Options for {@link TcpConnection}. */
export interface TcpConnectionOptions {
  readonly id: number;
  readonly inbound: boolean;
  /** Peer address and port (known before an outbound socket has connected). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Close after this long without a byte in either direction. */
  readonly idleTimeoutMs: number;
  /** Outbound only: give up connecting after this long. */
  readonly connectTimeoutMs: number;
  /** False for an outbound socket still connecting. */
  readonly connected: boolean;
}

/** Most bytes queued for a peer that does not read before the connection is dropped. */
const MAX_WRITE_BACKLOG = 1024 * 1024;
const PONG = Buffer.from('\r\n', 'latin1');

/** A framed SIP TCP connection. */
export class TcpConnection extends TypedEmitter<TcpConnectionEvents> {
  readonly id: number;
  readonly inbound: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: Socket;
  readonly #framer = new SipStreamFramer();
  readonly #idleMs: number;
  readonly #ready: Promise<void>;
  #closed = false;
  #closeReason = 'peer';

  constructor(socket: Socket, o: TcpConnectionOptions) {
    super();
    this.id = o.id;
    this.inbound = o.inbound;
    this.remoteAddress = o.remoteAddress;
    this.remotePort = o.remotePort;
    this.#socket = socket;
    this.#idleMs = o.idleTimeoutMs;

    this.#ready = o.connected
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          socket.once('connect', () => {
            socket.setTimeout(this.#idleMs);
            resolve();
          });
          socket.once('close', () => reject(new SipTransportError(`TCP connection to ${o.remoteAddress}:${o.remotePort} failed`)));
        });
    // Senders await #ready themselves; an unobserved rejection must not crash the process.
    this.#ready.catch(() => undefined);
    socket.setNoDelay(true);
    // Node counts reads and writes as activity, so this is a true idle timer.
    socket.setTimeout(o.connected ? this.#idleMs : o.connectTimeoutMs);
    socket.on('timeout', () => this.#destroy('idle'));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {
      // The reason is reported via 'close'; error details are not needed by callers.
      if (this.#closeReason === 'peer') this.#closeReason = 'error';
    });
    socket.on('close', () => {
      this.#closed = true;
      this.emit('closed', this.#closeReason);
    });
  }

  /** True once the socket is closed or closing. */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /** Writes `data`, connecting first if needed. Rejects with {@link SipTransportError}. */
  async send(data: Buffer): Promise<void> {
    await this.#ready;
    if (this.closed) throw new SipTransportError(`TCP connection to ${this.remoteAddress}:${this.remotePort} is closed`);
    await new Promise<void>((resolve, reject) => {
      this.#socket.write(data, (err) => (err ? reject(new SipTransportError(`TCP write to ${this.remoteAddress}:${this.remotePort} failed`)) : resolve()));
      if (this.#socket.writableLength > MAX_WRITE_BACKLOG) this.#destroy('overflow');
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#destroy('local');
  }

  #destroy(reason: string): void {
    if (this.#socket.destroyed) return;
    this.#closeReason = reason;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    for (const ev of this.#framer.push(chunk)) {
      switch (ev.type) {
        case 'message':
          this.emit('message', ev.message);
          break;
        case 'invalid':
          this.emit('invalid', ev.error, false);
          break;
        case 'keepalive':
          // RFC 5626 §3.5.1: a ping (CRLFCRLF) is answered with a pong (CRLF); pongs need nothing.
          if (ev.kind === 'ping' && !this.closed) {
            this.#socket.write(PONG);
            this.emit('keepalive');
          }
          break;
        case 'fatal':
          this.emit('invalid', ev.error, true);
          this.#destroy('framing');
          return;
      }
    }
  }
}
