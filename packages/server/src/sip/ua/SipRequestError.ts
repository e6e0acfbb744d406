/**
 * Final failure of a SIP request as the application sees it: the SIP status and reason of the
 * final response, or a locally generated status (RFC 3261 §8.1.3.1): 408 when the transaction
 * timed out, 503 when the transport failed. The message never contains credentials.
 */
export class SipRequestError extends Error {
  override readonly name = 'SipRequestError';
  /** SIP status code (e.g. 401, 404, 486; 408 timeout; 503 transport error). */
  readonly status: number;
  /** Reason phrase. */
  readonly reason: string;

  constructor(status: number, reason: string, detail?: string) {
    super(detail === undefined ? `${status} ${reason}` : `${status} ${reason}: ${detail}`);
    this.status = status;
    this.reason = reason;
  }
}
