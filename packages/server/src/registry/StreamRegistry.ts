import { TypedEmitter } from '../util/TypedEmitter.js';
import { LiveStream } from './LiveStream.js';

export class StreamNameInUseError extends Error {
  override readonly name = 'StreamNameInUseError';
  constructor(streamName: string) {
    super(`Stream name is already in use: ${streamName}`);
  }
}

export interface StreamRegistryEvents extends Record<string, unknown[]> {
  created: [stream: LiveStream];
  removed: [stream: LiveStream];
}

/**
 * Named live streams. A name is reserved when its stream is created (before media flows) and
 * freed when the stream ends. Knows neither SIP nor WebRTC.
 */
export class StreamRegistry extends TypedEmitter<StreamRegistryEvents> {
  readonly #byName = new Map<string, LiveStream>();

  /** Reserves `name`; throws StreamNameInUseError when a live stream has it. */
  create(name: string, owner: string): LiveStream {
    if (this.#byName.has(name)) throw new StreamNameInUseError(name);
    const stream = new LiveStream(name, owner);
    this.#byName.set(name, stream);
    stream.once('ended', () => {
      if (this.#byName.get(name) === stream) this.#byName.delete(name);
      this.emit('removed', stream);
    });
    this.emit('created', stream);
    return stream;
  }

  get(name: string): LiveStream | undefined {
    return this.#byName.get(name);
  }

  getByMediaSessionId(id: string): LiveStream | undefined {
    for (const s of this.#byName.values()) if (s.mediaSessionId === id) return s;
    return undefined;
  }

  list(): LiveStream[] {
    return [...this.#byName.values()];
  }

  /** Ends every stream (server shutdown). */
  endAll(info: string): void {
    for (const s of this.list()) s.end(info);
  }
}
