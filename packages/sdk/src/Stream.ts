import {
  ERROR_INFO,
  INVALID_STREAM_STATE,
  STREAM_EVENT,
  STREAM_EVENT_TYPE,
  STREAM_STATUS,
  STREAM_STATUS_INFO,
  type StreamState,
  type StreamStatus,
} from './constants';
import { EnhancedEventEmitter, type Listener } from './EnhancedEventEmitter';
import { InvalidStateError, RequestError } from './errors';
import type { Logger } from './Logger';
import { MediaElementHandler } from './MediaElementHandler';
import { PlaybackTransport } from './PlaybackTransport';
import { negotiatedCodec, opusParamsFromConstraints, setOpusFmtp } from './sdp';
import type {
  FailEvent,
  MediaState,
  MediaStats,
  PlaybackConstraints,
  StatsCallback,
  StreamEvent,
  StreamEventMap,
  StreamOptions,
  StreamStats,
  StreamStatusEvent,
  VideoResolution,
} from './types';
import { uuid } from './uuid';

/**
 * What a {@link Stream} needs from its session.
 * @internal
 */
export interface StreamHost {
  /** Sends a message on the session socket; false if it is not open. */
  send(message: string, data: unknown): boolean;
  /** RTCPeerConnection configuration (`mediaOptions`). */
  readonly mediaOptions: RTCConfiguration | undefined;
  readonly logger: Logger;
  /** Removes the stream from the session. */
  release(stream: Stream): void;
}

/** How long `stop()` waits for the server's STOPPED before stopping locally. */
export const STOP_TIMEOUT_MS = 3000;
/** How long `snapshot()` waits for the server. */
export const SNAPSHOT_TIMEOUT_MS = 5000;

const LOG = 'stream';
const RELEASING: ReadonlySet<StreamStatus> = new Set([
  STREAM_STATUS.FAILED,
  STREAM_STATUS.STOPPED,
  STREAM_STATUS.UNPUBLISHED,
]);
const STATUSES: ReadonlySet<string> = new Set(Object.values(STREAM_STATUS));

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * A played stream (Flashphoner `Stream`), made by `session.createStream()`.
 *
 * Life: NEW -> `play()` -> PENDING -> PLAYING ... -> STOPPED | FAILED |
 * UNPUBLISHED. On one of the last three the stream leaves its session, its
 * peer connection closes, and it cannot be played again: create a new one.
 *
 * Events: every {@link STREAM_STATUS} value (callback gets the stream),
 * `STREAM_EVENT` (callback gets the {@link StreamEvent}).
 */
export class Stream extends EnhancedEventEmitter<StreamEventMap> {
  private readonly id_ = uuid();
  private readonly name_: string;
  private status_: StreamState = STREAM_STATUS.NEW;
  private info_: string | undefined;
  private errorInfo_: string | undefined;
  private resolution: VideoResolution = {};
  private audioState_: MediaState | undefined;
  private videoState_: MediaState | undefined;
  private remoteBitrate = -1;
  private networkBandwidth = -1;
  private readonly constraints: PlaybackConstraints | undefined;
  private readonly receiveAudio: boolean;
  private readonly receiveVideo: boolean;
  private readonly opusParams: Record<string, string>;
  private readonly video: { width: number; height: number; bitrate: number; minBitrate: number; maxBitrate: number; quality: number };
  private audioOutputId: string | undefined;
  private transport: PlaybackTransport | undefined;
  private media: MediaElementHandler | undefined;
  private offerSent = false;
  private stopRequested = false;
  private released = false;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private availableWaiters: Array<Waiter<Stream>> = [];
  private snapshotWaiters: Array<Waiter<string>> = [];

  /**
   * Use `session.createStream()`.
   * @internal
   */
  constructor(
    private readonly host: StreamHost,
    private readonly options: StreamOptions,
  ) {
    super();
    this.name_ = options.name;
    const c = options.constraints && Object.keys(options.constraints).length > 0 ? options.constraints : undefined;
    this.constraints = c;
    const audio = c?.audio;
    const video = c?.video;
    this.receiveAudio =
      typeof audio === 'boolean' ? audio : typeof audio === 'object' && audio ? true : options.receiveAudio ?? true;
    this.receiveVideo =
      typeof video === 'boolean' ? video : typeof video === 'object' && video ? true : options.receiveVideo ?? true;
    const a = typeof audio === 'object' && audio ? audio : {};
    const v = typeof video === 'object' && video ? video : {};
    this.opusParams = opusParamsFromConstraints(a);
    this.audioOutputId = a.outputId;
    this.video = {
      width: options.playWidth ?? num(v.width),
      height: options.playHeight ?? num(v.height),
      bitrate: num(v.bitrate),
      minBitrate: num(v.minBitrate),
      maxBitrate: num(v.maxBitrate),
      quality: Math.min(100, num(v.quality)),
    };
  }

  /** Stream id: the `mediaSessionId` on the wire and the id of its `<video>`. */
  id(): string {
    return this.id_;
  }

  /** Stream name. */
  name(): string {
    return this.name_;
  }

  /** Current status (RESIZE, SNAPSHOT_COMPLETE and NOT_ENOUGH_BANDWIDTH never become the status). */
  status(): StreamState {
    return this.status_;
  }

  /** Always false: this SDK only plays. */
  published(): boolean {
    return false;
  }

  /** The server's last `info` text (see STREAM_STATUS_INFO), or a snapshot / availability reason. */
  getInfo(): string | undefined {
    return this.info_;
  }

  /** Message of a local (browser-side) error that failed the stream. */
  getErrorInfo(): string | undefined {
    return this.errorInfo_;
  }

  /** Source video size reported by the server; `{}` until the first resize. */
  videoResolution(): VideoResolution {
    return { ...this.resolution };
  }

  /** Last audio mute state reported by the server. */
  getAudioState(): MediaState | undefined {
    return this.audioState_;
  }

  /** Last video mute state reported by the server. */
  getVideoState(): MediaState | undefined {
    return this.videoState_;
  }

  /** Remote bitrate reported by the server (NOT_ENOUGH_BANDWIDTH), or -1. */
  getRemoteBitrate(): number {
    return this.remoteBitrate;
  }

  /** Network bandwidth reported by the server (NOT_ENOUGH_BANDWIDTH), or -1. */
  getNetworkBandwidth(): number {
    return this.networkBandwidth;
  }

  /**
   * Flashphoner `on()`: sets THE callback of `event`; a later `on()` for the
   * same event replaces it. Use {@link addListener} for several listeners.
   *
   * @example stream.on(STREAM_STATUS.PLAYING, (s) => console.log(s.id())).on(STREAM_STATUS.FAILED, ...)
   * @throws TypeError "Event can't be null"; Error "Callback needs to be a valid function".
   * @returns this, for chaining.
   */
  on<K extends keyof StreamEventMap & string>(event: K, callback: Listener<StreamEventMap, K>): this {
    this.replaceListener(event, callback);
    return this;
  }

  /**
   * Starts playback: fires PENDING (the `<video>` is already in `display`),
   * then sends `playStream` with the offer.
   *
   * @throws Error "Invalid stream state" unless the stream is NEW.
   */
  play(): void {
    if (this.status_ !== STREAM_STATUS.NEW) {
      throw new InvalidStateError(INVALID_STREAM_STATE);
    }
    this.status_ = STREAM_STATUS.PENDING;
    const logger = this.host.logger;
    let transport: PlaybackTransport;
    try {
      this.media = new MediaElementHandler({
        id: this.id_,
        display: this.options.display,
        remoteVideo: this.options.remoteVideo,
        unmutePlayOnStart: this.options.unmutePlayOnStart ?? true,
        useControls: this.options.useControls ?? false,
        audioOutputId: this.audioOutputId,
        logger,
      });
      transport = new PlaybackTransport({
        configuration: this.host.mediaOptions,
        connectionConstraints: this.options.mediaConnectionConstraints,
        receiveAudio: this.receiveAudio,
        receiveVideo: this.receiveVideo,
        stripCodecs: this.options.stripCodecs,
        stereo: this.opusParams['stereo'] === '1',
        logger,
      });
    } catch (error) {
      this.failLocally(error);
      return;
    }
    this.transport = transport;
    transport.addListener('track', (track, receiver) => {
      this.media?.addTrack(track);
      this.applyPlayoutDelay(receiver);
    });
    transport.addListener('failed', (reason) => logger.warn(LOG, `${this.id_}: ${reason}`));
    this.safeEmit(STREAM_STATUS.PENDING, this);
    transport.createOffer().then(
      (sdp) => {
        if (this.released || this.stopRequested) return;
        this.offerSent = true;
        this.host.send('playStream', {
          mediaSessionId: this.id_,
          name: this.name_,
          published: false,
          hasVideo: this.receiveVideo,
          hasAudio: this.receiveAudio,
          status: this.status_,
          record: false,
          width: this.video.width,
          height: this.video.height,
          mediaProvider: 'WebRTC',
          sdp,
          custom: this.options.custom,
          bitrate: this.video.bitrate,
          minBitrate: this.video.minBitrate,
          maxBitrate: this.video.maxBitrate,
          quality: this.video.quality,
          constraints: this.constraints,
          transport: this.options.transport,
          cvoExtension: this.options.cvoExtension,
        });
      },
      (error: unknown) => this.failLocally(error),
    );
  }

  /**
   * Stops playback: sends `stopStream` and closes the peer connection. STOPPED
   * comes from the server; without an answer within 3 s, or without a
   * session, the stream stops locally. A NEW stream becomes FAILED (as in
   * Flashphoner). No-op once released.
   */
  stop(): void {
    if (this.released || this.stopRequested) return;
    if (this.status_ === STREAM_STATUS.NEW) {
      this.finish(STREAM_STATUS.FAILED);
      return;
    }
    this.stopRequested = true;
    if (!this.offerSent) {
      // playStream never went out: nothing to stop on the server.
      this.finish(STREAM_STATUS.STOPPED, STREAM_STATUS_INFO.STOPPED_BY_USER);
      return;
    }
    const sent = this.host.send('stopStream', {
      mediaSessionId: this.id_,
      name: this.name_,
      published: false,
      hasVideo: this.receiveVideo,
      hasAudio: this.receiveAudio,
      status: this.status_,
      record: false,
    });
    this.closeMedia();
    if (!sent) {
      this.finish(STREAM_STATUS.STOPPED, STREAM_STATUS_INFO.STOPPED_BY_USER);
      return;
    }
    this.stopTimer = setTimeout(() => {
      this.host.logger.info(LOG, `${this.id_}: no STOPPED from the server, stopping locally`);
      this.finish(STREAM_STATUS.STOPPED, STREAM_STATUS_INFO.STOPPED_BY_USER);
    }, STOP_TIMEOUT_MS);
  }

  /**
   * Asks the server whether the stream exists (`availableStream`).
   * Resolves with this stream if it does; otherwise REJECTS WITH THIS STREAM
   * (Flashphoner behaviour), whose `getInfo()` then tells why.
   */
  available(): Promise<Stream> {
    return new Promise<Stream>((resolve, reject) => {
      if (this.released || !this.host.send('availableStream', { mediaSessionId: this.id_, name: this.name_ })) {
        reject(this);
        return;
      }
      this.availableWaiters.push({ resolve, reject });
    });
  }

  /**
   * Asks the server for a snapshot (`snapshot` message). Resolves with the
   * base64 picture; rejects with an Error if the server reports a failure, or
   * does not answer within 5 s (a server without snapshots).
   *
   * @throws Error "Invalid stream state" unless NEW or PLAYING.
   */
  snapshot(): Promise<string> {
    if (this.status_ !== STREAM_STATUS.NEW && this.status_ !== STREAM_STATUS.PLAYING) {
      throw new InvalidStateError(INVALID_STREAM_STATE);
    }
    return new Promise<string>((resolve, reject) => {
      if (!this.host.send('snapshot', { name: this.name_, mediaSessionId: this.id_ })) {
        reject(new RequestError('Snapshot failed: session is not connected'));
        return;
      }
      const waiter: Waiter<string> = { resolve, reject };
      waiter.timer = setTimeout(() => {
        this.snapshotWaiters = this.snapshotWaiters.filter((w) => w !== waiter);
        reject(new RequestError('Snapshot is not supported by the server'));
      }, SNAPSHOT_TIMEOUT_MS);
      this.snapshotWaiters.push(waiter);
    });
  }

  /** Sets the playback volume, 0..100 (ignored without audio). */
  setVolume(volume: number): void {
    this.media?.setVolume(volume);
  }

  /** Playback volume 0..100, or -1 without audio. */
  getVolume(): number {
    return this.media ? this.media.getVolume() : -1;
  }

  /** Mutes playback. */
  muteRemoteAudio(): void {
    this.media?.mute();
  }

  /** Unmutes playback (call it from a user gesture if autoplay kept it muted). */
  unmuteRemoteAudio(): void {
    this.media?.unmute();
  }

  /** True if playback is muted, or there is no audio (Flashphoner rule); false before play. */
  isRemoteAudioMuted(): boolean {
    return this.media ? this.media.isMuted() : false;
  }

  /**
   * Routes audio to an output device (`HTMLMediaElement.setSinkId`).
   * Before play, the id is kept and applied when playback starts.
   */
  setAudioOutputId(id: string): Promise<void> | undefined {
    this.audioOutputId = id;
    return this.media?.setAudioOutputId(id);
  }

  /** Toggles full screen for the stream's `<video>`. */
  fullScreen(): void {
    this.media?.fullScreen();
  }

  /**
   * Receive statistics: `{inboundStream: {audio, video}, outboundStream: {},
   * otherStats}`, each kind with codec, bytesReceived, packetsReceived,
   * packetsLost, framesDecoded, framesPerSecond, width, height, audioLevel.
   *
   * @param callback - gets the stats, plus the native RTCStatsReport if `nativeStats`.
   * @param nativeStats - also pass the native report to `callback`.
   * @returns the same stats (empty before play / after release).
   */
  async getStats(callback?: StatsCallback, nativeStats?: boolean): Promise<StreamStats> {
    const stats: StreamStats = { inboundStream: {}, outboundStream: {}, otherStats: {} };
    const transport = this.transport;
    let report: RTCStatsReport | undefined;
    if (transport && !transport.isClosed) {
      try {
        report = await transport.getStats();
        this.fillStats(stats, report, transport.remoteSdp());
      } catch (error) {
        this.host.logger.debug(LOG, 'getStats failed', error);
      }
    }
    if (callback) {
      if (nativeStats && report) callback(stats, report);
      else callback(stats);
    }
    return stats;
  }

  private fillStats(stats: StreamStats, report: RTCStatsReport, remoteSdp: string | undefined): void {
    report.forEach((value: unknown) => {
      const r = value as Record<string, unknown> & { type: string };
      if (r.type === 'inbound-rtp' && (r['kind'] === 'audio' || r['kind'] === 'video')) {
        const kind = r['kind'];
        const entry: MediaStats = {};
        for (const [key, v] of Object.entries(r)) {
          if (typeof v !== 'number') continue;
          if (
            key.startsWith('bytes') ||
            key.startsWith('packets') ||
            key.startsWith('frames') ||
            key.includes('Count') ||
            key === 'audioLevel' ||
            key === 'jitter' ||
            key === 'totalAudioEnergy'
          ) {
            entry[key] = v;
          }
        }
        const codecStats = typeof r['codecId'] === 'string' ? (report.get(r['codecId']) as Record<string, unknown> | undefined) : undefined;
        const mime = typeof codecStats?.['mimeType'] === 'string' ? codecStats['mimeType'] : undefined;
        const fromSdp = negotiatedCodec(remoteSdp, kind);
        const codec = mime ? mime.slice(mime.indexOf('/') + 1) : fromSdp?.name;
        if (codec !== undefined) entry.codec = codec;
        const rate = typeof codecStats?.['clockRate'] === 'number' ? codecStats['clockRate'] : fromSdp?.clockRate;
        if (rate !== undefined) entry.codecRate = rate;
        if (kind === 'video') {
          const size = this.media?.videoSize();
          const width = typeof r['frameWidth'] === 'number' ? r['frameWidth'] : size?.width;
          const height = typeof r['frameHeight'] === 'number' ? r['frameHeight'] : size?.height;
          if (width !== undefined) entry.width = width;
          if (height !== undefined) entry.height = height;
        }
        stats.inboundStream[kind] = entry;
      } else if (r.type === 'candidate-pair' && r['nominated'] === true && r['state'] === 'succeeded') {
        if (typeof r['availableIncomingBitrate'] === 'number') {
          stats.otherStats.availableIncomingBitrate = r['availableIncomingBitrate'];
        }
        if (typeof r['currentRoundTripTime'] === 'number') {
          stats.otherStats.currentRoundTripTime = r['currentRoundTripTime'];
        }
      }
    });
  }

  // ---- server messages (routed by the session) ----

  /** `notifyStreamStatusEvent` for this stream. @internal */
  handleStatusEvent(event: Partial<StreamStatusEvent>): void {
    if (this.released) return;
    const status = event.status as string | undefined;
    if (status === STREAM_EVENT) {
      this.handleStreamEvent(event as unknown as StreamEvent);
      return;
    }
    if (status === undefined || !STATUSES.has(status)) {
      this.host.logger.debug(LOG, `${this.id_}: ignored status ${String(status)}`);
      return;
    }
    if (event.audioState) this.audioState_ = event.audioState;
    if (event.videoState) this.videoState_ = event.videoState;
    if (typeof event.info === 'string') this.info_ = event.info;
    switch (status) {
      case STREAM_STATUS.RESIZE: {
        const width = event.streamerVideoWidth ?? event.playerVideoWidth;
        const height = event.streamerVideoHeight ?? event.playerVideoHeight;
        if (width !== undefined && height !== undefined) this.resolution = { width, height };
        break;
      }
      case STREAM_STATUS.SNAPSHOT_COMPLETE:
        this.settleSnapshots(event.info);
        break;
      case STREAM_STATUS.NOT_ENOUGH_BANDWIDTH:
        this.setBandwidth(event.info);
        break;
      default:
        this.status_ = status as StreamState;
    }
    if (RELEASING.has(status as StreamStatus)) {
      this.release();
    }
    this.safeEmit(status as StreamStatus, this);
  }

  /** `notifyStreamEvent` for this stream. @internal */
  handleStreamEvent(event: StreamEvent): void {
    if (this.released) return;
    const payload = event.payload ?? {};
    switch (event.type) {
      case STREAM_EVENT_TYPE.RESIZE:
        if (payload.streamerVideoWidth !== undefined && payload.streamerVideoHeight !== undefined) {
          this.resolution = { width: payload.streamerVideoWidth, height: payload.streamerVideoHeight };
        }
        break;
      case STREAM_EVENT_TYPE.NOT_ENOUGH_BANDWIDTH:
        this.setBandwidth(payload.info);
        break;
      case STREAM_EVENT_TYPE.SNAPSHOT_COMPLETED:
        this.settleSnapshots(payload.snapshot ?? payload.info);
        break;
      case STREAM_EVENT_TYPE.SNAPSHOT_FAILED:
        this.settleSnapshots(undefined, payload.info);
        break;
      case STREAM_EVENT_TYPE.AUDIO_MUTED:
      case STREAM_EVENT_TYPE.AUDIO_UNMUTED:
        this.audioState_ = { muted: event.type === STREAM_EVENT_TYPE.AUDIO_MUTED };
        break;
      case STREAM_EVENT_TYPE.VIDEO_MUTED:
      case STREAM_EVENT_TYPE.VIDEO_UNMUTED:
        this.videoState_ = { muted: event.type === STREAM_EVENT_TYPE.VIDEO_MUTED };
        break;
    }
    this.safeEmit(STREAM_EVENT, event);
  }

  /** `setRemoteSDP` for this stream: applies the answer. @internal */
  handleRemoteSdp(sdp: string): void {
    const transport = this.transport;
    if (this.released || !transport || transport.isClosed) return;
    let answer = setOpusFmtp(sdp, this.opusParams);
    const hook = this.options.sdpHook;
    if (typeof hook === 'function') {
      try {
        answer = hook({ sdpString: answer }) || answer;
      } catch (error) {
        this.host.logger.warn(LOG, 'sdpHook threw; using the SDP as is', error);
      }
    }
    transport.setRemoteAnswer(answer).catch((error: unknown) => this.failLocally(error));
  }

  /** `availableStream` answer for this stream. @internal */
  handleAvailable(available: boolean, info: string | undefined): void {
    if (info !== undefined) this.info_ = info;
    const waiters = this.availableWaiters;
    this.availableWaiters = [];
    for (const w of waiters) {
      if (available) w.resolve(this);
      else w.reject(this);
    }
  }

  /** A `fail` message about this stream. @internal */
  handleFail(fail: FailEvent): void {
    if (typeof fail.apiMethod === 'string' && /snapshot/i.test(fail.apiMethod)) {
      this.settleSnapshots(undefined, fail.info ?? 'Snapshot failed');
    }
  }

  /** The session closed or failed. @internal */
  handleSessionClosed(): void {
    if (this.released) return;
    this.finish(this.stopRequested ? STREAM_STATUS.STOPPED : STREAM_STATUS.FAILED);
  }

  // ---- internals ----

  private setBandwidth(info: string | undefined): void {
    if (typeof info !== 'string') return;
    const [remote, network] = info.split('/');
    this.remoteBitrate = Number(remote);
    this.networkBandwidth = Number(network);
  }

  private settleSnapshots(picture: string | undefined, failure?: string): void {
    const waiters = this.snapshotWaiters;
    this.snapshotWaiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      if (picture !== undefined && failure === undefined) w.resolve(picture);
      else w.reject(new RequestError(failure ?? 'Snapshot failed'));
    }
  }

  private applyPlayoutDelay(receiver: RTCRtpReceiver): void {
    const delay = this.options.playoutDelay;
    if (delay === undefined) return;
    const r = receiver as unknown as Record<string, unknown>;
    if ('jitterBufferTarget' in r) {
      r['jitterBufferTarget'] = delay * 1000;
    } else if ('playoutDelayHint' in r) {
      r['playoutDelayHint'] = delay;
    } else {
      this.host.logger.warn(LOG, 'playout delay is not supported by this browser');
    }
  }

  private failLocally(error: unknown): void {
    if (this.released) return;
    this.host.logger.error(LOG, `${this.id_}: local error`, error);
    this.errorInfo_ = error instanceof Error ? error.message : String(error);
    this.info_ = ERROR_INFO.LOCAL_ERROR;
    if (this.offerSent && !this.stopRequested) {
      this.host.send('stopStream', {
        mediaSessionId: this.id_,
        name: this.name_,
        published: false,
        hasVideo: this.receiveVideo,
        hasAudio: this.receiveAudio,
        status: this.status_,
        record: false,
      });
    }
    this.finish(STREAM_STATUS.FAILED);
  }

  private closeMedia(): void {
    this.transport?.close();
    this.media?.release();
  }

  /** Leaves the session and frees the media; idempotent. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.stopTimer);
    this.closeMedia();
    this.host.release(this);
    const available = this.availableWaiters;
    this.availableWaiters = [];
    available.forEach((w) => w.reject(this));
    this.settleSnapshots(undefined, 'Snapshot failed: stream released');
  }

  /** Logs listener exceptions with the session logger. */
  protected override onListenerError(event: string, error: unknown): void {
    this.host.logger.error(LOG, `listener of ${event} threw`, error);
  }

  /** Sets a releasing status locally, releases, and fires it. */
  private finish(status: 'FAILED' | 'STOPPED', info?: string): void {
    if (this.released) return;
    this.status_ = status;
    if (info !== undefined) this.info_ = info;
    this.release();
    this.safeEmit(status, this);
  }
}
