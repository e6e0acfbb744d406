/**
 * All RTMP pushes: `/push/*` and the push a `/call/startup` with `rtmpUrl` + `rtmpStream` asks
 * for. A push is unique per stream and target; ended pushes stay listed for a while so that
 * `/push/find_all` shows why they ended.
 */
import type { StreamRegistry } from '../registry/StreamRegistry.js';
import type { Logger } from '../util/Logger.js';
import { EgressError } from './EgressError.js';
import type { PushAudioCodec } from './egressSettings.js';
import { checkRtmpUrl, pushKey, pushTarget } from './pushTarget.js';
import { PUSH_INFO, RtmpPush } from './RtmpPush.js';

export interface PushManagerOptions {
  readonly ffmpegPath: string;
  readonly audioCodec: PushAudioCodec;
  readonly log: Logger;
  /** How long an ended push stays in find/find_all; default 60 s. */
  readonly keepEndedMs?: number;
}

/** A `/push/startup` request after validation. */
export interface PushStartup {
  readonly streamName: string;
  readonly rtmpUrl: string;
  /** `rtmpTransponderFullUrl`: rtmpUrl is the full target. */
  readonly fullUrl?: boolean;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Starts, finds, mutes and stops pushes. */
export class PushManager {
  readonly #registry: StreamRegistry;
  readonly #opts: PushManagerOptions;
  readonly #pushes = new Map<string, RtmpPush>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(registry: StreamRegistry, opts: PushManagerOptions) {
    this.#registry = registry;
    this.#opts = opts;
  }

  /**
   * Starts a push of a stream that exists (live, or reserved by a call before media flows: the
   * push then starts when it publishes). `options.action === "mute"` starts it muted.
   *
   * @throws EgressError 400 (bad URL), 404 (no such stream), 409 (already pushed there).
   */
  startup(req: PushStartup): RtmpPush {
    const rtmpUrl = checkRtmpUrl(req.rtmpUrl);
    const stream = this.#registry.get(req.streamName);
    if (!stream || stream.ended) throw new EgressError(404, `Stream not found: ${req.streamName}`);
    const target = pushTarget(stream.name, rtmpUrl, req.fullUrl ?? false);
    if (this.#active().some((p) => pushKey(p.streamName, p.rtmpUrl) === pushKey(stream.name, target))) {
      throw new EgressError(409, `Stream ${stream.name} is already pushed to ${target}`);
    }
    const options = req.options ?? {};
    const push = new RtmpPush(stream, target, {
      ffmpegPath: this.#opts.ffmpegPath,
      audioCodec: this.#opts.audioCodec,
      log: this.#opts.log,
      requestedUrl: rtmpUrl,
      options,
      muted: options['action'] === 'mute',
    });
    this.#pushes.set(push.mediaSessionId, push);
    push.once('ended', () => this.#retire(push));
    push.start();
    return push;
  }

  /**
   * The push `/call/startup` starts for `rtmpUrl` + `rtmpStream`: call it with
   * `rtmpUrl + "/" + rtmpStream` and `{ fullUrl: true }` right after the call reserved its stream.
   *
   * @throws EgressError as startup().
   */
  startForStream(streamName: string, rtmpUrl: string, opts: { fullUrl: boolean; options?: Readonly<Record<string, unknown>> }): RtmpPush {
    return this.startup({ streamName, rtmpUrl, fullUrl: opts.fullUrl, ...(opts.options ? { options: opts.options } : {}) });
  }

  /** True when a live push publishes to `target` (for the 409 of `/call/startup`). */
  isTargetInUse(target: string): boolean {
    return this.#active().some((p) => p.rtmpUrl === target);
  }

  /** Pushes (live, and ended ones still kept) matching every given field. */
  find(q: { streamName?: string; rtmpUrl?: string }): RtmpPush[] {
    return this.list().filter(
      (p) => (q.streamName === undefined || p.streamName === q.streamName) && (q.rtmpUrl === undefined || p.rtmpUrl === q.rtmpUrl || p.requestedUrl === q.rtmpUrl),
    );
  }

  list(): RtmpPush[] {
    return [...this.#pushes.values()];
  }

  get(mediaSessionId: string): RtmpPush | undefined {
    return this.#pushes.get(mediaSessionId);
  }

  /**
   * Stops a live push.
   * @throws EgressError 404 when there is no live push with that id.
   */
  async terminate(mediaSessionId: string): Promise<RtmpPush> {
    const push = this.#live(mediaSessionId);
    await push.terminate(PUSH_INFO.restTerminate);
    return push;
  }

  /**
   * Mutes or unmutes a live push.
   * @throws EgressError 404 when there is no live push with that id.
   */
  setMuted(mediaSessionId: string, muted: boolean): RtmpPush {
    const push = this.#live(mediaSessionId);
    push.setMuted(muted);
    return push;
  }

  /** Stops every push (server shutdown). */
  async stop(): Promise<void> {
    await Promise.all(this.#active().map((p) => p.terminate(PUSH_INFO.publisherStop)));
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #live(mediaSessionId: string): RtmpPush {
    const push = this.#pushes.get(mediaSessionId);
    if (!push || push.ended) throw new EgressError(404, `No live push ${mediaSessionId}`);
    return push;
  }

  #active(): RtmpPush[] {
    return this.list().filter((p) => !p.ended);
  }

  #retire(push: RtmpPush): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#pushes.get(push.mediaSessionId) === push) this.#pushes.delete(push.mediaSessionId);
    }, this.#opts.keepEndedMs ?? 60_000);
    t.unref();
    this.#timers.add(t);
  }
}
