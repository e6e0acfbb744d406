/**
 * Hard bounds applied to every SIP message sipcast reads. They are deliberately generous for
 * real traffic (RFC 4475 "longreq" fits with room to spare) and small enough that a hostile peer
 * cannot make the parser allocate or loop without bound.
 */

/** Largest message accepted, header section plus body (a UDP datagram cannot exceed this anyway). */
export const MAX_MESSAGE_SIZE = 64 * 1024;

/** Header fields after multi-value splitting; a message with more is rejected, not truncated. */
export const MAX_HEADERS = 256;

/** Longest header field name (RFC 4475 longreq uses 93 characters). */
export const MAX_HEADER_NAME_LENGTH = 256;

/** Longest unfolded header field value. */
export const MAX_HEADER_VALUE_LENGTH = 8 * 1024;

/** Longest start line (the Request-URI may carry many parameters). */
export const MAX_START_LINE_LENGTH = 8 * 1024;

/**
 * Longest method name, in the request line and in CSeq. A very long CSeq method crashed
 * Asterisk/PJSIP in 2017; RFC 4475 "intmeth" uses 43 characters.
 */
export const MAX_METHOD_LENGTH = 64;

/** Longest Call-ID. */
export const MAX_CALL_ID_LENGTH = 1024;

/** Most parameters accepted on one URI or header value. */
export const MAX_PARAMS = 64;
