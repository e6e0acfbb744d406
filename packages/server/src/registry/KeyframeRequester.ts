/** How keyframe requests to a source are merged, spaced and retried. */
export interface KeyframePolicy {
  /** Minimum gap between two requests to the source (softphones make a new IDR per request). */
  readonly minIntervalMs: number;
  /** Resend when no keyframe arrived this long after a request (softphones drop some silently). */
  readonly retryAfterMs: number;
  /** Resends per request before giving up until the next trigger. */
  readonly maxRetries: number;
}

export const DEFAULT_KEYFRAME_POLICY: KeyframePolicy = { minIntervalMs: 500, retryAfterMs: 100, maxRetries: 3 };

/**
 * Merges keyframe requests from all viewers of one stream into at most one outstanding
 * request, rate-limited, resent while no keyframe arrives.
 */
export class KeyframeRequester {
  readonly #send: () => void;
  readonly #policy: KeyframePolicy;
  #lastSentMs = -Infinity;
  #retriesLeft = 0;
  #outstanding = false;
  #timer: NodeJS.Timeout | undefined;
  /** Requests actually sent to the source, for stats. */
  sent = 0;

  constructor(send: () => void, policy: KeyframePolicy = DEFAULT_KEYFRAME_POLICY) {
    this.#send = send;
    this.#policy = policy;
  }

  /** Somebody needs a keyframe. */
  request(): void {
    if (this.#outstanding) return;
    this.#outstanding = true;
    this.#retriesLeft = this.#policy.maxRetries;
    const wait = this.#lastSentMs + this.#policy.minIntervalMs - performance.now();
    if (wait <= 0) this.#fire();
    else this.#arm(wait);
  }

  /** A keyframe arrived from the source. */
  keyframeArrived(): void {
    this.#outstanding = false;
    this.#clear();
  }

  close(): void {
    this.#outstanding = false;
    this.#clear();
  }

  #fire(): void {
    this.#lastSentMs = performance.now();
    this.sent++;
    try {
      this.#send();
    } finally {
      this.#arm(this.#policy.retryAfterMs, true);
    }
  }

  #arm(ms: number, isRetry = false): void {
    this.#clear();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#outstanding) return;
      if (isRetry) {
        if (this.#retriesLeft-- <= 0) {
          this.#outstanding = false;
          return;
        }
      }
      this.#fire();
    }, ms);
    this.#timer.unref();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
