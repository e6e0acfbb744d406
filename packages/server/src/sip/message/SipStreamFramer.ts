/**
 * Message framing for stream transports (TCP, TLS): RFC 3261 §18.3 delimits messages by
 * Content-Length, which is therefore mandatory, and RFC 5626 §3.5.1 adds CRLF keep-alives
 * ("ping" CRLFCRLF from a client, "pong" CRLF from a server) between messages.
 */
import { SipParseError } from './errors.js';
import { splitHeaderSection } from './headerSection.js';
import { headerKey } from './headerNames.js';
import { MAX_MESSAGE_SIZE } from './limits.js';
import { parseContentLength } from './scalars.js';
import { parseSipMessage, type SipMessage } from './SipMessage.js';

/** What {@link SipStreamFramer.push} found. */
export type SipStreamEvent =
  /** A complete, valid message. */
  | { readonly type: 'message'; readonly message: SipMessage }
  /**
   * A correctly delimited message that failed to parse. The stream stays in sync: answer a
   * request with `error.status error.reason` (using `error.partial`) and carry on.
   */
  | { readonly type: 'invalid'; readonly error: SipParseError }
  /**
   * Framing is lost (no or bad Content-Length, oversize, unreadable header section). Nothing more
   * will be read from this framer: close the connection.
   */
  | { readonly type: 'fatal'; readonly error: SipParseError }
  /** RFC 5626 keep-alive: a `ping` must be answered with a CRLF pong; a `pong` refreshes the flow. */
  | { readonly type: 'keepalive'; readonly kind: 'ping' | 'pong' };

/** Options for {@link SipStreamFramer}. */
export interface SipStreamFramerOptions {
  /** Largest message (headers plus body) accepted; default {@link MAX_MESSAGE_SIZE}. */
  readonly maxMessageSize?: number;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Finds the Content-Length of a header section using the same line splitting as the parser, so
 * the framer and the parser can never disagree about where a message ends (the root of request
 * smuggling). More than one Content-Length is fatal on a stream (RFC 4475 "mcl01").
 */
function contentLengthOf(headerText: string): number {
  const { fields } = splitHeaderSection(headerText);
  let found: string | undefined;
  for (const f of fields) {
    if (headerKey(f.name) !== 'content-length') continue;
    if (found !== undefined) throw new SipParseError('Multiple Content-Length Headers');
    found = f.value;
  }
  if (found === undefined) throw new SipParseError('Missing Content-Length');
  return parseContentLength(found);
}

/**
 * Incremental framer for one stream connection. Feed every received chunk to {@link push};
 * it returns the events completed by that chunk. It never throws; after a `fatal` event it
 * ignores further input. Memory is bounded by the maximum message size.
 */
export class SipStreamFramer {
  readonly #max: number;
  /** Unread bytes are #buf[#start, #end). */
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  /** Offset from #start where the search for CRLFCRLF resumes, so each byte is scanned about once. */
  #scanFrom = 0;
  /** Total length of the message being collected, once its header section is known. */
  #frameLength = -1;
  #dead = false;

  constructor(options: SipStreamFramerOptions = {}) {
    this.#max = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
  }

  /** True after a fatal event: the connection should be closed. */
  get closed(): boolean {
    return this.#dead;
  }

  /** Bytes buffered toward the next message. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Consumes `chunk` and returns the events it completed. */
  push(chunk: Buffer): SipStreamEvent[] {
    if (this.#dead) return [];
    this.#append(chunk);
    const events: SipStreamEvent[] = [];
    for (;;) {
      const ev = this.#next();
      if (ev === null) break;
      events.push(ev);
      if (ev.type === 'fatal') {
        this.#dead = true;
        this.#buf = Buffer.alloc(0);
        this.#start = this.#end = 0;
        break;
      }
    }
    return events;
  }

  #append(chunk: Buffer): void {
    const used = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      // Compact first; grow (doubling) only when the unread bytes really need more room.
      const target = this.#buf.length >= used + chunk.length ? this.#buf : Buffer.allocUnsafe(Math.max(used + chunk.length, this.#buf.length * 2, 4096));
      this.#buf.copy(target, 0, this.#start, this.#end);
      this.#buf = target;
      this.#start = 0;
      this.#end = used;
    }
    chunk.copy(this.#buf, this.#end);
    this.#end += chunk.length;
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    this.#scanFrom = 0;
    this.#frameLength = -1;
  }

  /** Extracts one event from the buffer, or returns null when more input is needed. */
  #next(): SipStreamEvent | null {
    const data = this.#buf.subarray(this.#start, this.#end);
    const len = data.length;
    if (this.#frameLength < 0) {
      // Keep-alives only occur between messages.
      if (len >= 1 && data[0] === CR) {
        if (len < 2) return null;
        if (data[1] !== LF) return this.#fatal('Bare CR');
        if (len >= 4 && data[2] === CR && data[3] === LF) {
          this.#consume(4);
          return { type: 'keepalive', kind: 'ping' };
        }
        // "\r\n\r" may still become a ping; a lone CRLF at the end of input is a pong now,
        // because a pong is never followed by anything its sender waits for.
        if (len === 3 && data[2] === CR) return null;
        this.#consume(2);
        return { type: 'keepalive', kind: 'pong' };
      }
      const end = data.indexOf('\r\n\r\n', Math.max(0, this.#scanFrom - 3), 'latin1');
      if (end < 0) {
        this.#scanFrom = len;
        return len > this.#max ? this.#fatal('Message Too Large') : null;
      }
      const headerLength = end + 4;
      if (headerLength > this.#max) return this.#fatal('Message Too Large');
      let bodyLength: number;
      try {
        bodyLength = contentLengthOf(data.toString('utf8', 0, end));
      } catch (e) {
        return this.#fatal(e instanceof SipParseError ? e.reason : 'Malformed Message');
      }
      if (headerLength + bodyLength > this.#max) return this.#fatal('Message Too Large');
      this.#frameLength = headerLength + bodyLength;
    }
    if (len < this.#frameLength) return null;
    const frame = Buffer.from(data.subarray(0, this.#frameLength));
    this.#consume(this.#frameLength);
    try {
      return { type: 'message', message: parseSipMessage(frame, { stream: true }) };
    } catch (e) {
      const error = e instanceof SipParseError ? e : new SipParseError('Malformed Message', { cause: e });
      return { type: 'invalid', error };
    }
  }

  #fatal(reason: string): SipStreamEvent {
    const status = reason === 'Message Too Large' ? 513 : 400;
    return { type: 'fatal', error: new SipParseError(reason, { status }) };
  }
}
