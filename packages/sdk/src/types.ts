/**
 * Public option, payload and event-map types.
 *
 * @packageDocumentation
 */
import type {
  ConnectionQuality,
  StreamEventType,
  StreamStatus,
  TransportType,
} from './constants';
import type { LoggerOptions } from './Logger';
import type { Session } from './Session';
import type { Stream } from './Stream';

/** Options of `init()`. */
export interface InitOptions {
  /** Logger of the SDK (`getLogger()`); `null` silences it. */
  logger?: LoggerOptions | null;
  /** Called with the available media providers (`["WebRTC"]`). */
  mediaProvidersReadyCallback?: (providers: string[]) => void;
  /** Accepted for compatibility; only "WebRTC" exists. */
  preferredMediaProvider?: string;
  /** Accepted for compatibility; only "WebRTC" exists. */
  preferredMediaProviders?: string[];
}

/** SIP account fields, sent in `connection` when given (not used for playback). */
export interface SipOptions {
  login?: string;
  authenticationName?: string;
  password?: string;
  domain?: string;
  outboundProxy?: string;
  proxy?: string;
  port?: number | string;
  registerRequired?: boolean;
}

/** Options of `createSession()`. */
export interface CreateSessionOptions {
  /** WebSocket URL of the server: `ws://host:8080` or `wss://host:8443`. Required. */
  urlServer: string;
  /** Server application key. Default "defaultApp". */
  appKey?: string;
  /** Token for authentication / resuming a kept-alive session. */
  authToken?: string;
  /** Ask the server to keep the session after the socket closes. */
  keepAlive?: boolean;
  /** Any JSON data, passed to the server application. */
  custom?: unknown;
  /** RTCPeerConnection configuration for the streams (e.g. `iceServers`). */
  mediaOptions?: RTCConfiguration;
  /** Connect timeout in ms; FAILED if the socket is not open by then. 0 = none. */
  timeout?: number;
  /** Send a `ping` to the server every N ms. 0 (default) = never. */
  pingInterval?: number;
  /** FAILED after this many `probesInterval` periods without any server message. 0 = off. */
  receiveProbes?: number;
  /** Period in ms of the missed-message check. 0 = off. */
  probesInterval?: number;
  /** SIP account (sent as sip* fields of `connection`). */
  sipOptions?: SipOptions;
  /** Logger of this session; default: the SDK logger. */
  logger?: LoggerOptions | null;
}

/** Audio part of playback constraints. */
export interface PlaybackAudioConstraints {
  /** Ask for stereo opus (`stereo=1;sprop-stereo=1` in the applied answer). */
  stereo?: boolean;
  /** Opus `maxaveragebitrate`, bits/s. */
  bitrate?: number;
  /** Opus in-band FEC (`useinbandfec=1`). */
  fec?: boolean;
  /** Audio output device id (`setSinkId`). */
  outputId?: string;
}

/** Video part of playback constraints (sent to the server in `playStream`). */
export interface PlaybackVideoConstraints {
  width?: number;
  height?: number;
  bitrate?: number;
  minBitrate?: number;
  maxBitrate?: number;
  /** 0..100. */
  quality?: number;
}

/** Playback constraints: `false` turns a kind off; an object turns it on with settings. */
export interface PlaybackConstraints {
  audio?: boolean | PlaybackAudioConstraints;
  video?: boolean | PlaybackVideoConstraints;
}

/** Argument of {@link StreamOptions.sdpHook}. */
export interface SdpHookArgument {
  /** The SDP the server sent. */
  sdpString: string;
}

/** Options of `session.createStream()` for playback. */
export interface StreamOptions {
  /** Stream name. Required. */
  name: string;
  /** A container element; the SDK puts a `<video>` with `id = stream.id()` inside. */
  display?: HTMLElement | null;
  /** An existing `<video>` to play into instead of creating one. */
  remoteVideo?: HTMLVideoElement | null;
  /** What to receive and how. */
  constraints?: PlaybackConstraints;
  /** Receive audio (when `constraints.audio` is not given). Default true. */
  receiveAudio?: boolean;
  /** Receive video (when `constraints.video` is not given). Default true. */
  receiveVideo?: boolean;
  /** Requested width (else `constraints.video.width`), 0 = source. */
  playWidth?: number;
  /** Requested height (else `constraints.video.height`), 0 = source. */
  playHeight?: number;
  /** Codecs removed from the offer sent to the server: "H264,PCMA" (case-insensitive). */
  stripCodecs?: string | string[];
  /** Rewrites the server's SDP before it is applied; return a falsy value to keep it. */
  sdpHook?: (sdp: SdpHookArgument) => string | null | undefined;
  /** Target playout delay in seconds (receiver `jitterBufferTarget` / `playoutDelayHint`). */
  playoutDelay?: number;
  /** Unmute playback when it starts (retried muted if autoplay is refused). Default true. */
  unmutePlayOnStart?: boolean;
  /** Show the browser's video controls. */
  useControls?: boolean;
  /** Media transport the server should use. */
  transport?: TransportType;
  /** Ask for the RTP video orientation extension. */
  cvoExtension?: boolean;
  /** Any JSON data, passed to the server application. */
  custom?: unknown;
  /** Legacy (non-standard) RTCPeerConnection constraints, passed through as given. */
  mediaConnectionConstraints?: unknown;
  /** Media provider; only "WebRTC" exists. */
  mediaProvider?: string;
  /** Logger of this stream; default: the session logger. */
  logger?: LoggerOptions | null;
}

/** The object the server sends in `getUserData` (the stored `connection`). */
export interface UserData {
  authToken?: string;
  sessionId?: string;
  [key: string]: unknown;
}

/** Payload of a `fail` message (SESSION_STATUS.WARN). */
export interface FailEvent {
  apiMethod?: string;
  id?: string;
  info?: string;
  [key: string]: unknown;
}

/** Payload of `DataStatusEvent` (the answer to `sendData`). */
export interface DataStatusEvent {
  operationId?: string;
  status: 'ACCEPTED' | 'FAILED';
  info?: string;
  [key: string]: unknown;
}

/** Payload of `OnDataEvent` (SESSION_STATUS.APP_DATA). */
export interface AppDataEvent {
  payload?: unknown;
  [key: string]: unknown;
}

/** Mute state of a stream's audio or video, as the server reports it. */
export interface MediaState {
  muted: boolean;
}

/** A `notifyStreamStatusEvent` payload (the server's Stream object). */
export interface StreamStatusEvent {
  mediaSessionId: string;
  name?: string;
  published?: boolean;
  hasVideo?: boolean;
  hasAudio?: boolean;
  status: StreamStatus;
  info?: string;
  record?: boolean;
  recordName?: string;
  width?: number;
  height?: number;
  audioCodec?: string;
  videoCodec?: string;
  playerVideoWidth?: number;
  playerVideoHeight?: number;
  streamerVideoWidth?: number;
  streamerVideoHeight?: number;
  audioState?: MediaState;
  videoState?: MediaState;
  [key: string]: unknown;
}

/** Payload of a {@link StreamEvent}. */
export interface StreamEventPayload {
  streamerVideoWidth?: number;
  streamerVideoHeight?: number;
  /** For notEnoughBandwidth: "remoteBitrate/networkBandwidth". */
  info?: string;
  /** For snapshotCompleted: the picture, base64. */
  snapshot?: string;
  [key: string]: unknown;
}

/** A `notifyStreamEvent` (stream.on(STREAM_EVENT, ...)). */
export interface StreamEvent {
  mediaSessionId: string;
  type: StreamEventType;
  payload?: StreamEventPayload;
  [key: string]: unknown;
}

/** Video size reported by the server (`stream.videoResolution()`). */
export interface VideoResolution {
  width?: number;
  height?: number;
}

/** Statistics of one received media kind. */
export interface MediaStats {
  /** Encoding name ("H264", "opus", ...). */
  codec?: string;
  /** Clock rate of the codec. */
  codecRate?: number;
  bytesReceived?: number;
  packetsReceived?: number;
  packetsLost?: number;
  framesDecoded?: number;
  framesPerSecond?: number;
  width?: number;
  height?: number;
  audioLevel?: number;
  /** Other numeric counters of the `inbound-rtp` report (jitter, nackCount, ...). */
  [key: string]: string | number | undefined;
}

/** Result of `stream.getStats()`. */
export interface StreamStats {
  inboundStream: { audio?: MediaStats; video?: MediaStats };
  /** Always empty: the SDK only receives. */
  outboundStream: { audio?: MediaStats; video?: MediaStats };
  otherStats: { availableIncomingBitrate?: number; currentRoundTripTime?: number };
}

/** Callback of `stream.getStats()`; `native` is given when asked for. */
export type StatsCallback = (stats: StreamStats, native?: RTCStatsReport) => void;

/** Events of a {@link Session} and their callback arguments. */
export type SessionEventMap = {
  PENDING: [session: Session];
  CONNECTED: [session: Session];
  ESTABLISHED: [session: Session, userData: UserData];
  DISCONNECTED: [session: Session];
  FAILED: [session: Session];
  WARN: [fail: FailEvent];
  DEBUG: [data: Record<string, unknown>];
  APP_DATA: [data: AppDataEvent];
  SEND_DATA_STATUS: [status: DataStatusEvent];
  REGISTERED: [session: Session];
  UNREGISTERED: [session: Session];
  INCOMING_CALL: [call: unknown];
};

/** Events of a {@link Stream} and their callback arguments. */
export type StreamEventMap = { [K in StreamStatus]: [stream: Stream] } & {
  STREAM_EVENT: [event: StreamEvent];
  /** Never fired by sipcast (no connection-quality estimation); kept so ported pages compile. */
  UPDATE: [quality: ConnectionQuality, clientFiltered: number, serverFiltered: number];
};
