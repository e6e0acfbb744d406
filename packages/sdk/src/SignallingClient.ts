import { EnhancedEventEmitter } from './EnhancedEventEmitter';
import type { Logger } from './Logger';

/** Options of {@link SignallingClient}. */
export interface SignallingOptions {
  /** Connect timeout in ms; 0 = none. */
  timeout?: number;
  /** Send `ping` every N ms; 0 = never. */
  pingInterval?: number;
  /** Fail after this many `probesInterval` periods without any message; 0 = off. */
  receiveProbes?: number;
  /** Period in ms of the missed-message check; 0 = off. */
  probesInterval?: number;
  logger: Logger;
}

/** Events of {@link SignallingClient}. */
export type SignallingEvents = {
  /** The socket opened. */
  open: [];
  /** A server message other than `ping` (which is answered here). */
  message: [name: string, data: unknown[]];
  /** Socket error, connect timeout or missed keep-alives. Final: no `closed` follows. */
  failed: [reason: string];
  /** The socket closed without a failure. Final. */
  closed: [code: number];
};

const LOG = 'signalling';
const CONNECTING = 0;
const OPEN = 1;

/**
 * The WebSocket signalling channel of a session (wire contract §3).
 *
 * Every frame is JSON `{"message": NAME, "data": [...]}`; the client always
 * sends a one-element `data` array. Server `ping`s are answered with
 * `{"message":"pong","data":[null]}`. Ends with exactly one of `failed` or
 * `closed`.
 */
export class SignallingClient extends EnhancedEventEmitter<SignallingEvents> {
  private readonly ws: WebSocket;
  private state: 'connecting' | 'open' | 'failed' | 'closed' = 'connecting';
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];
  private readonly intervals: Array<ReturnType<typeof setInterval>> = [];
  private missedProbes = 0;

  /**
   * Opens the WebSocket at once.
   * @param url - `ws://` or `wss://` URL.
   */
  constructor(
    url: string,
    private readonly options: SignallingOptions,
  ) {
    super();
    this.ws = new WebSocket(url);
    const timeout = options.timeout ?? 0;
    if (timeout > 0) {
      this.timers.push(
        setTimeout(() => {
          if (this.ws.readyState === CONNECTING) this.fail(`connect timeout after ${timeout} ms`);
        }, timeout),
      );
    }
    this.ws.onopen = () => this.handleOpen();
    this.ws.onmessage = (event: MessageEvent) => this.handleMessage(event.data);
    this.ws.onerror = () => this.fail('WebSocket error');
    this.ws.onclose = (event: CloseEvent) => this.handleClose(event.code);
  }

  /** True while the socket is open. */
  get isOpen(): boolean {
    return this.state === 'open' && this.ws.readyState === OPEN;
  }

  /**
   * Sends `{"message": name, "data": [data]}` if the socket is open.
   * @returns false if the socket is not open (nothing is sent).
   */
  send(message: string, data: unknown): boolean {
    if (!this.isOpen) {
      this.options.logger.debug(LOG, `not sent (socket not open): ${message}`);
      return false;
    }
    this.ws.send(JSON.stringify({ message, data: [data === undefined ? null : data] }));
    return true;
  }

  /** Closes the socket (no close code, like the original SDK). `closed` follows. */
  close(): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.ws.close();
  }

  private handleOpen(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.clearTimers();
    const { pingInterval = 0, receiveProbes = 0, probesInterval = 0 } = this.options;
    if (pingInterval > 0) {
      this.intervals.push(setInterval(() => this.send('ping', null), pingInterval));
    }
    if (receiveProbes > 0 && probesInterval > 0) {
      this.intervals.push(
        setInterval(() => {
          this.missedProbes++;
          if (this.missedProbes >= receiveProbes) {
            this.fail(`no message from the server for ${this.missedProbes} probes`);
          }
        }, probesInterval),
      );
    }
    this.safeEmit('open');
  }

  private handleMessage(raw: unknown): void {
    if (this.state !== 'open') return;
    if (typeof raw !== 'string') {
      this.options.logger.debug(LOG, 'binary frame ignored');
      return;
    }
    let frame: { message?: unknown; data?: unknown };
    try {
      frame = JSON.parse(raw) as { message?: unknown; data?: unknown };
    } catch {
      this.options.logger.warn(LOG, 'frame is not JSON', raw);
      return;
    }
    this.missedProbes = 0;
    if (typeof frame?.message !== 'string') {
      this.options.logger.warn(LOG, 'frame without message name', raw);
      return;
    }
    const data = Array.isArray(frame.data) ? (frame.data as unknown[]) : [];
    if (frame.message === 'ping') {
      this.send('pong', null);
      return;
    }
    this.safeEmit('message', frame.message, data);
  }

  private handleClose(code: number): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.safeEmit('closed', code);
  }

  private fail(reason: string): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.clearTimers();
    this.options.logger.warn(LOG, `failed: ${reason}`);
    try {
      this.ws.close();
    } catch {
      // already closing
    }
    this.safeEmit('failed', reason);
  }

  private clearTimers(): void {
    this.timers.forEach(clearTimeout);
    this.timers.length = 0;
    if (this.state !== 'open') {
      this.intervals.forEach(clearInterval);
      this.intervals.length = 0;
    }
  }
}
