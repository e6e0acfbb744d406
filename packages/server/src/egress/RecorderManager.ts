/**
 * All recordings: automatic ones (`sip_record_stream`: every stream a SIP call creates, owner
 * `call:*`) and those started by `/recorder/startup`. One live recording per stream; finished
 * ones stay listed for a while.
 */
import type { LiveStream } from '../registry/LiveStream.js';
import type { StreamRegistry } from '../registry/StreamRegistry.js';
import type { Logger } from '../util/Logger.js';
import { EgressError } from './EgressError.js';
import { RECORDER_INFO, Recorder } from './Recorder.js';

export interface RecorderManagerOptions {
  readonly ffmpegPath: string;
  readonly dir: string;
  readonly template: string;
  readonly recordSipStreams: boolean;
  readonly log: Logger;
  /** How long a finished recording stays in find_all; default 60 s. */
  readonly keepEndedMs?: number;
}

/** Which stream a REST request means. */
export interface StreamRef {
  readonly mediaSessionId?: string;
  readonly streamName?: string;
}

/** Starts, lists and stops recordings. */
export class RecorderManager {
  readonly #registry: StreamRegistry;
  readonly #opts: RecorderManagerOptions;
  readonly #recorders = new Map<string, Recorder>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onCreated = (stream: LiveStream): void => {
    if (!this.#opts.recordSipStreams || !stream.owner.startsWith('call:')) return;
    this.#start(stream, true);
  };
  #stopped = false;

  constructor(registry: StreamRegistry, opts: RecorderManagerOptions) {
    this.#registry = registry;
    this.#opts = opts;
    registry.on('created', this.#onCreated);
  }

  /** The records directory (absolute). */
  get dir(): string {
    return this.#opts.dir;
  }

  /**
   * Starts recording a stream (live, or reserved: recording starts when it publishes).
   * @throws EgressError 400 without a reference, 404 no such stream, 409 already recording.
   */
  startup(ref: StreamRef): Recorder {
    const stream = this.#resolve(ref);
    if (this.#liveFor(stream.name)) throw new EgressError(409, `Stream ${stream.name} is already being recorded`);
    return this.#start(stream, false);
  }

  /**
   * Stops the live recording of a stream; resolves once the file is final.
   * @throws EgressError 400 without a reference, 404 when the stream is not being recorded.
   */
  async terminate(ref: StreamRef): Promise<Recorder> {
    if (!ref.mediaSessionId && !ref.streamName) throw new EgressError(400, 'Give "mediaSessionId" or "streamName"');
    const rec = this.list().find((r) => !r.stopping && matches(r, ref));
    if (!rec) throw new EgressError(404, 'No recording of that stream');
    await rec.stop(RECORDER_INFO.restTerminate);
    return rec;
  }

  /** Live recordings and finished ones still kept. */
  list(): Recorder[] {
    return [...this.#recorders.values()];
  }

  /** The file name of the stream's current recording (or the last one of this stream), else null. */
  recordNameOf(stream: LiveStream): string | null {
    const mine = this.list().filter((r) => r.mediaSessionId === stream.mediaSessionId);
    return (mine.find((r) => !r.ended) ?? mine[mine.length - 1])?.recordName ?? null;
  }

  /** True while the stream is being recorded. */
  isRecording(stream: LiveStream): boolean {
    return this.list().some((r) => r.mediaSessionId === stream.mediaSessionId && !r.stopping);
  }

  /** Finalises every recording (server shutdown) and stops auto-recording new streams. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#registry.off('created', this.#onCreated);
    await Promise.all(this.list().map((r) => r.stop(RECORDER_INFO.shutdown)));
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #start(stream: LiveStream, auto: boolean): Recorder {
    if (this.#stopped) throw new EgressError(409, 'The server is stopping');
    const rec = new Recorder(stream, { ffmpegPath: this.#opts.ffmpegPath, dir: this.#opts.dir, template: this.#opts.template, log: this.#opts.log, auto });
    this.#recorders.set(rec.id, rec);
    rec.once('ended', () => this.#retire(rec));
    rec.start();
    return rec;
  }

  #resolve(ref: StreamRef): LiveStream {
    if (!ref.mediaSessionId && !ref.streamName) throw new EgressError(400, 'Give "mediaSessionId" or "streamName"');
    const stream = ref.streamName ? this.#registry.get(ref.streamName) : this.#registry.getByMediaSessionId(ref.mediaSessionId!);
    if (!stream || stream.ended || (ref.mediaSessionId && stream.mediaSessionId !== ref.mediaSessionId)) {
      throw new EgressError(404, 'Stream not found');
    }
    return stream;
  }

  #liveFor(streamName: string): Recorder | undefined {
    return this.list().find((r) => r.streamName === streamName && !r.stopping);
  }

  #retire(rec: Recorder): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#recorders.get(rec.id) === rec) this.#recorders.delete(rec.id);
    }, this.#opts.keepEndedMs ?? 60_000);
    t.unref();
    this.#timers.add(t);
  }
}

function matches(r: Recorder, ref: StreamRef): boolean {
  return (ref.streamName === undefined || r.streamName === ref.streamName) && (ref.mediaSessionId === undefined || r.mediaSessionId === ref.mediaSessionId);
}
