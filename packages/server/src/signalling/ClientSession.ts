import { randomUUID } from 'node:crypto';
import type { LiveStream } from '../registry/LiveStream.js';
import type { Logger } from '../util/Logger.js';
import { OfferError } from '../webrtc/OfferSelection.js';
import { PlaybackCancelledError, StreamNotFoundError, type PlaybackService } from '../webrtc/PlaybackService.js';
import type { WebRtcViewer } from '../webrtc/WebRtcViewer.js';
import { STREAM_INFO, type ViewerStatus } from './StreamStatusInfo.js';

/** Sends one frame to the client; returns false when the socket is gone. */
export type FrameSender = (frame: { message: string; data: unknown[] }) => void;

/** What a client asked to play, as echoed in notifyStreamStatusEvent. */
interface PlayEntry {
  readonly mediaSessionId: string;
  readonly name: string;
  readonly hasAudio: boolean;
  readonly hasVideo: boolean;
  readonly abort: AbortController;
  stream?: LiveStream;
  viewer?: WebRtcViewer;
  status: ViewerStatus;
  width: number;
  height: number;
}

type Json = Record<string, unknown>;

const MAX_NAME_LENGTH = 256;
const MAX_ID_LENGTH = 128;
const MAX_VIEWERS_PER_SESSION = 32;

/**
 * One WebSocket client speaking the WCS protocol (wire contract §3). Protocol state only:
 * playback itself is the PlaybackService's.
 */
export class ClientSession {
  readonly id = randomUUID();
  readonly #send: FrameSender;
  readonly #playback: PlaybackService;
  readonly #log: Logger;
  readonly #plays = new Map<string, PlayEntry>();
  #established = false;
  #closed = false;
  #connection: Json = {};

  readonly #requiredToken: string;
  readonly #onUnauthorized: () => void;

  /** With `requiredToken`, `connection` must carry it as `authToken`; otherwise the socket is closed. */
  constructor(send: FrameSender, playback: PlaybackService, log: Logger, auth: { requiredToken: string; onUnauthorized: () => void } = { requiredToken: '', onUnauthorized: () => undefined }) {
    this.#send = send;
    this.#playback = playback;
    this.#log = log;
    this.#requiredToken = auth.requiredToken;
    this.#onUnauthorized = auth.onUnauthorized;
  }

  get established(): boolean {
    return this.#established;
  }

  /** Handles one text frame from the client. Never throws. */
  handleFrame(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.#fail('unknown', 'Malformed JSON frame');
      return;
    }
    if (!isObject(frame) || typeof frame['message'] !== 'string') {
      this.#fail('unknown', 'Frame must be {"message": string, "data": [object]}');
      return;
    }
    const message = frame['message'];
    const data = Array.isArray(frame['data']) ? frame['data'][0] : undefined;
    try {
      this.#dispatch(message, data);
    } catch (err) {
      this.#log.warn(`session ${this.id}: ${message} failed: ${(err as Error).message}`);
      this.#fail(message, 'Failed by error');
    }
  }

  /** The socket closed: release every viewer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#plays.values()) this.#release(entry, STREAM_INFO.STOPPED_BY_SESSION_DISCONNECT);
    this.#plays.clear();
  }

  #dispatch(message: string, data: unknown): void {
    switch (message) {
      case 'connection':
        return this.#onConnection(data);
      case 'pong':
        return;
      case 'playStream':
        return this.#onPlayStream(data);
      case 'stopStream':
        return this.#onStopStream(data);
      case 'availableStream':
        return this.#onAvailableStream(data);
      case 'sendData':
        return this.#onSendData(data);
      case 'publishStream':
      case 'unPublishStream':
        return this.#onPublish(message, data);
      case 'snapshot':
      case 'sendStreamEvent':
        return this.#fail(message, `${message} is not supported`);
      default:
        return this.#fail(message, `Unknown method ${message.slice(0, 64)}`);
    }
  }

  #onConnection(data: unknown): void {
    if (!isObject(data)) return this.#fail('connection', 'connection needs an object in data[0]');
    if (this.#requiredToken && data['authToken'] !== this.#requiredToken) {
      this.#fail('connection', STREAM_INFO.RESTRICTED_ACCESS);
      this.#onUnauthorized();
      return;
    }
    this.#connection = {
      ...pick(data, ['appKey', 'mediaProviders', 'keepAlive', 'clientVersion', 'clientOSVersion', 'clientBrowserVersion', 'custom']),
      appKey: typeof data['appKey'] === 'string' ? data['appKey'] : 'defaultApp',
      sessionId: this.id,
      authToken: randomUUID(),
    };
    this.#established = true;
    this.#send({ message: 'getUserData', data: [this.#connection] });
  }

  #onPlayStream(data: unknown): void {
    if (!isObject(data)) return this.#fail('playStream', 'playStream needs an object in data[0]');
    const id = data['mediaSessionId'];
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
      return this.#fail('playStream', STREAM_INFO.MEDIASESSION_ID_NULL);
    }
    const name = data['name'];
    const base = {
      mediaSessionId: id,
      name: typeof name === 'string' ? name.slice(0, MAX_NAME_LENGTH) : '',
      hasAudio: data['hasAudio'] !== false,
      hasVideo: data['hasVideo'] !== false,
      width: 0,
      height: 0,
    };
    if (!this.#established) return this.#notify({ ...base, status: 'FAILED' }, STREAM_INFO.SESSION_NOT_READY);
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      return this.#notify({ ...base, status: 'FAILED' }, STREAM_INFO.STREAM_NOT_FOUND);
    }
    if (this.#plays.has(id)) return this.#notify({ ...base, status: 'FAILED' }, STREAM_INFO.MEDIASESSION_ID_ALREADY_IN_USE);
    if (this.#plays.size >= MAX_VIEWERS_PER_SESSION) {
      return this.#notify({ ...base, status: 'FAILED' }, 'Failed by error: too many streams in one session');
    }
    const entry: PlayEntry = { ...base, abort: new AbortController(), status: 'PENDING' };
    this.#plays.set(id, entry);
    this.#playback
      .play({ streamName: name, offerSdp: data['sdp'], signal: entry.abort.signal })
      .then(({ stream, viewer, answerSdp }) => this.#onAnswered(entry, stream, viewer, answerSdp))
      .catch((err: unknown) => this.#onPlayError(entry, err));
  }

  #onAnswered(entry: PlayEntry, stream: LiveStream, viewer: WebRtcViewer, answerSdp: string): void {
    if (this.#closed || this.#plays.get(entry.mediaSessionId) !== entry) {
      viewer.close({ info: STREAM_INFO.STOPPED_BY_USER, failed: false });
      return;
    }
    entry.stream = stream;
    entry.viewer = viewer;
    entry.width = stream.width;
    entry.height = stream.height;
    viewer.on('resize', (w, h) => this.#onResize(entry, w, h));
    viewer.on('closed', (end) => {
      if (this.#plays.get(entry.mediaSessionId) !== entry) return;
      this.#plays.delete(entry.mediaSessionId);
      entry.status = end.failed ? 'FAILED' : 'STOPPED';
      this.#notify(entry, end.info);
    });
    this.#send({ message: 'setRemoteSDP', data: [entry.mediaSessionId, answerSdp] });
    entry.status = 'PLAYING';
    this.#notify(entry, '');
  }

  #onPlayError(entry: PlayEntry, err: unknown): void {
    if (this.#plays.get(entry.mediaSessionId) !== entry) return;
    this.#plays.delete(entry.mediaSessionId);
    if (err instanceof PlaybackCancelledError) return;
    entry.status = 'FAILED';
    if (err instanceof StreamNotFoundError) return this.#notify(entry, STREAM_INFO.STREAM_NOT_FOUND);
    if (err instanceof OfferError) {
      this.#log.info(`session ${this.id}: offer for ${entry.name} refused: ${err.message}`);
      return this.#notify(entry, err.info);
    }
    this.#log.warn(`session ${this.id}: play ${entry.name} failed: ${(err as Error).message}`);
    this.#notify(entry, STREAM_INFO.FAILED_BY_ERROR);
  }

  #onResize(entry: PlayEntry, width: number, height: number): void {
    entry.width = width;
    entry.height = height;
    this.#notify({ ...entry, status: 'RESIZE' }, '');
    this.#send({
      message: 'notifyStreamEvent',
      data: [{ mediaSessionId: entry.mediaSessionId, type: 'resize', payload: { streamerVideoWidth: width, streamerVideoHeight: height } }],
    });
  }

  #onStopStream(data: unknown): void {
    if (!isObject(data) || typeof data['mediaSessionId'] !== 'string') {
      return this.#fail('stopStream', STREAM_INFO.MEDIASESSION_ID_NULL);
    }
    const id = data['mediaSessionId'];
    const entry = this.#plays.get(id);
    if (entry) {
      this.#plays.delete(id);
      this.#release(entry, STREAM_INFO.STOPPED_BY_USER);
      entry.status = 'STOPPED';
      return this.#notify(entry, STREAM_INFO.STOPPED_BY_USER);
    }
    // The SDK stops streams the server already ended; answer so its state settles.
    const name = typeof data['name'] === 'string' ? data['name'] : '';
    this.#notify({ mediaSessionId: id, name, hasAudio: true, hasVideo: true, status: 'STOPPED', width: 0, height: 0 }, STREAM_INFO.STOPPED_BY_USER);
  }

  #onAvailableStream(data: unknown): void {
    if (!isObject(data)) return this.#fail('availableStream', 'availableStream needs an object in data[0]');
    const stream = typeof data['name'] === 'string' ? this.#playback.find(data['name']) : undefined;
    const available = !!stream && !stream.ended;
    this.#send({
      message: 'availableStream',
      data: [{ id: data['mediaSessionId'] ?? null, status: available ? 'true' : 'false', info: available ? 'Available' : STREAM_INFO.STREAM_NOT_FOUND }],
    });
  }

  #onSendData(data: unknown): void {
    const operationId = isObject(data) ? data['operationId'] : undefined;
    this.#send({
      message: 'DataStatusEvent',
      data: [{ operationId: operationId ?? null, status: this.#established ? 'ACCEPTED' : 'FAILED', info: this.#established ? '' : STREAM_INFO.SESSION_NOT_READY }],
    });
  }

  #onPublish(message: string, data: unknown): void {
    const id = isObject(data) && typeof data['mediaSessionId'] === 'string' ? data['mediaSessionId'] : '';
    const name = isObject(data) && typeof data['name'] === 'string' ? data['name'] : '';
    if (!id) return this.#fail(message, 'Publishing from the browser is not supported');
    this.#send({
      message: 'notifyStreamStatusEvent',
      data: [{ mediaSessionId: id, name, published: true, status: 'FAILED', info: 'Failed by error: publishing from the browser is not supported' }],
    });
  }

  #release(entry: PlayEntry, info: string): void {
    entry.abort.abort();
    entry.viewer?.close({ info, failed: false });
  }

  #notify(entry: Pick<PlayEntry, 'mediaSessionId' | 'name' | 'hasAudio' | 'hasVideo' | 'status' | 'width' | 'height'>, info: string): void {
    const media = entry.hasVideo || entry.hasAudio ? this.#playback.find(entry.name)?.media : undefined;
    this.#send({
      message: 'notifyStreamStatusEvent',
      data: [
        {
          mediaSessionId: entry.mediaSessionId,
          name: entry.name,
          published: false,
          hasVideo: entry.hasVideo,
          hasAudio: entry.hasAudio,
          status: entry.status,
          info,
          record: false,
          recordName: null,
          width: entry.width,
          height: entry.height,
          audioCodec: media?.audio?.codec ?? '',
          videoCodec: media?.video?.codec ?? '',
          playerVideoWidth: entry.width,
          playerVideoHeight: entry.height,
          streamerVideoWidth: entry.width,
          streamerVideoHeight: entry.height,
          audioState: { muted: false },
          videoState: { muted: false },
        },
      ],
    });
  }

  #fail(apiMethod: string, info: string): void {
    this.#send({ message: 'fail', data: [{ apiMethod, id: null, info }] });
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick(obj: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
