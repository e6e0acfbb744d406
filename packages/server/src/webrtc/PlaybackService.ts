import type { LiveStream } from '../registry/LiveStream.js';
import type { StreamRegistry } from '../registry/StreamRegistry.js';
import { OfferError } from './OfferSelection.js';
import { WebRtcViewer } from './WebRtcViewer.js';
import type { WebRtcSettings } from './WebRtcSettings.js';

export class StreamNotFoundError extends Error {
  override readonly name = 'StreamNotFoundError';
}

/** A viewer waiting for a reserved stream's media was cancelled (stop, disconnect). */
export class PlaybackCancelledError extends Error {
  override readonly name = 'PlaybackCancelledError';
}

export interface PlaybackRequest {
  readonly streamName: string;
  readonly offerSdp: unknown;
  /** Aborts a request still waiting for the stream's media. */
  readonly signal?: AbortSignal;
}

/** Turns "play this name with this offer" into a WebRTC viewer attached to the stream. */
export class PlaybackService {
  readonly #registry: StreamRegistry;
  readonly #settings: WebRtcSettings;
  viewersCreated = 0;

  constructor(registry: StreamRegistry, settings: WebRtcSettings) {
    this.#registry = registry;
    this.#settings = settings;
  }

  find(streamName: string): LiveStream | undefined {
    return this.#registry.get(streamName);
  }

  /**
   * Answers the offer. A stream reserved but not yet fed (a SIP call still ringing) is waited
   * for, so a viewer can start before the media flows.
   */
  async play(req: PlaybackRequest): Promise<{ stream: LiveStream; viewer: WebRtcViewer; answerSdp: string }> {
    const stream = this.#registry.get(req.streamName);
    if (!stream || stream.ended) throw new StreamNotFoundError('Stream not found');
    if (stream.status === 'PENDING') await waitForMedia(stream, req.signal);
    if (stream.ended) throw new StreamNotFoundError('Stream not found');
    // Ask for a keyframe now, while ICE and DTLS run: it is usually there when the viewer's
    // tracks open (~100 ms later) and is then replayed from the cache.
    if (stream.media.video) stream.requestKeyframe();
    const { viewer, answerSdp } = await WebRtcViewer.answer(stream, req.offerSdp, this.#settings);
    this.viewersCreated++;
    return { stream, viewer, answerSdp };
  }
}

function waitForMedia(stream: LiveStream, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onPublished = (): void => {
      cleanup();
      resolve();
    };
    const onEnded = (): void => {
      cleanup();
      reject(new StreamNotFoundError('Stream not found'));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new PlaybackCancelledError('cancelled'));
    };
    const cleanup = (): void => {
      stream.off('published', onPublished);
      stream.off('ended', onEnded);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    stream.once('published', onPublished);
    stream.once('ended', onEnded);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export { OfferError };
