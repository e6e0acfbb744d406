/**
 * Typed errors of the SIP message layer. Parsers throw only {@link SipParseError}; builders and
 * serializers throw only {@link SipFormatError}. Reasons are fixed strings that never echo peer
 * input, so they can be sent back verbatim in a `400 <reason>` status line.
 */

/**
 * The parts of a rejected request that a UAS needs to build its error response
 * (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq are copied). Values are raw, unfolded
 * header values, salvaged leniently; they may themselves be malformed.
 */
export interface SipParsePartial {
  /** Request method from the request line, when one could be read. */
  readonly method?: string;
  /** Every Via value, top first, split at top-level commas. */
  readonly via: readonly string[];
  readonly from?: string;
  readonly to?: string;
  readonly callId?: string;
  readonly cseq?: string;
}

/** Options for {@link SipParseError}. */
export interface SipParseErrorOptions {
  /** Status a UAS should answer with: 400 unless the error names another (505, 513). */
  readonly status?: number;
  readonly partial?: SipParsePartial;
  readonly cause?: unknown;
}

/** A SIP message, URI or header value that does not follow RFC 3261 (or exceeds our limits). */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /** Short fixed phrase for a `400 <reason>` response, e.g. "Invalid CSeq". */
  readonly reason: string;
  /** Response code a UAS should send for this error (400, 505 or 513). */
  readonly status: number;
  /** For requests: what could be salvaged to address the error response. */
  readonly partial: SipParsePartial | undefined;

  constructor(reason: string, options: SipParseErrorOptions = {}) {
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.status = options.status ?? 400;
    this.partial = options.partial;
  }
}

/** A value that cannot be written into a SIP message (it would break framing or the grammar). */
export class SipFormatError extends Error {
  override readonly name = 'SipFormatError';
}
