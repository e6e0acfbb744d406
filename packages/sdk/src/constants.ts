/**
 * Constant tables of the Flashphoner Web SDK, mirrored value for value
 * (wire contract §2). Every table is frozen and typed `as const`, so each
 * value is its own string literal type.
 *
 * @packageDocumentation
 */

/** Statuses and events of a {@link Session}. */
export const SESSION_STATUS = Object.freeze({
  /** The WebSocket is open. */
  CONNECTED: 'CONNECTED',
  /** The server accepted the `connection` (sent `getUserData`). */
  ESTABLISHED: 'ESTABLISHED',
  /** The WebSocket closed normally. */
  DISCONNECTED: 'DISCONNECTED',
  /** The server reported an error for a request (`fail` message). */
  WARN: 'WARN',
  /** Socket error, connect timeout or missed keep-alives. */
  FAILED: 'FAILED',
  /** The server sent a debug event. */
  DEBUG: 'DEBUG',
  /** The server application sent data (`OnDataEvent`). */
  APP_DATA: 'APP_DATA',
  /** The server answered a `sendData` (`DataStatusEvent`). */
  SEND_DATA_STATUS: 'SEND_DATA_STATUS',
  /** State of a newly created session. */
  PENDING: 'PENDING',
  /** SIP registration (not used for playback). */
  REGISTERED: 'REGISTERED',
  /** SIP unregistration (not used for playback). */
  UNREGISTERED: 'UNREGISTERED',
  /** Incoming SIP call (not used for playback). */
  INCOMING_CALL: 'INCOMING_CALL',
} as const);

/** Statuses and events of a {@link Stream}. */
export const STREAM_STATUS = Object.freeze({
  /** A created stream that has not been played. */
  NEW: 'NEW',
  /** `play()` was called; waiting for the server. */
  PENDING: 'PENDING',
  /** Publishing (not used by this playback SDK). */
  PUBLISHING: 'PUBLISHING',
  /** The server is sending the stream. */
  PLAYING: 'PLAYING',
  /** The stream is paused. */
  PAUSED: 'PAUSED',
  /** The publisher went away. Releases the stream. */
  UNPUBLISHED: 'UNPUBLISHED',
  /** The stream was stopped. Releases the stream. */
  STOPPED: 'STOPPED',
  /** The stream failed; see `getInfo()`. Releases the stream. */
  FAILED: 'FAILED',
  /** The server detected a playback problem. */
  PLAYBACK_PROBLEM: 'PLAYBACK_PROBLEM',
  /** The picture size changed. Does not change `status()`. */
  RESIZE: 'RESIZE',
  /** A snapshot is ready in `getInfo()`. Does not change `status()`. */
  SNAPSHOT_COMPLETE: 'SNAPSHOT_COMPLETE',
  /** The stream bitrate exceeds the bandwidth. Does not change `status()`. */
  NOT_ENOUGH_BANDWIDTH: 'NOT_ENOUGH_BANDWIDTH',
} as const);

/** Name of the generic stream event (`notifyStreamEvent`). */
export const STREAM_EVENT = 'STREAM_EVENT' as const;

/** Types carried by a {@link STREAM_EVENT}. */
export const STREAM_EVENT_TYPE = Object.freeze({
  AUDIO_MUTED: 'audioMuted',
  AUDIO_UNMUTED: 'audioUnmuted',
  VIDEO_MUTED: 'videoMuted',
  VIDEO_UNMUTED: 'videoUnmuted',
  DATA: 'data',
  SNAPSHOT_COMPLETED: 'snapshotCompleted',
  SNAPSHOT_FAILED: 'snapshotFailed',
  RESIZE: 'resize',
  NOT_ENOUGH_BANDWIDTH: 'notEnoughBandwidth',
} as const);

/** Statuses of a SIP call (kept for API compatibility; the SDK makes no calls). */
export const CALL_STATUS = Object.freeze({
  NEW: 'NEW',
  RING: 'RING',
  RING_MEDIA: 'RING_MEDIA',
  HOLD: 'HOLD',
  ESTABLISHED: 'ESTABLISHED',
  FINISH: 'FINISH',
  BUSY: 'BUSY',
  SESSION_PROGRESS: 'SESSION_PROGRESS',
  FAILED: 'FAILED',
  PENDING: 'PENDING',
  TRYING: 'TRYING',
} as const);

/** Texts the server puts in a stream's `info` (`stream.getInfo()`). */
export const STREAM_STATUS_INFO = Object.freeze({
  FAILED_BY_ICE_ERROR: 'Failed by ICE error',
  FAILED_BY_ICE_TIMEOUT: 'Failed by ICE timeout',
  FAILED_BY_KEEP_ALIVE: 'Failed by ICE keep alive',
  FAILED_BY_DTLS_FINGERPRINT_ERROR: 'Failed by DTLS fingerprint error',
  FAILED_BY_DTLS_ERROR: 'Failed by DTLS error',
  FAILED_BY_RTMP_WRITER_ERROR: 'Failed by RTMP writer error',
  FAILED_BY_RTP_ACTIVITY: 'Failed by RTP activity',
  STOPPED_BY_SESSION_DISCONNECT: 'Stopped by session disconnect',
  STOPPED_BY_REST_TERMINATE: 'Stopped by rest /terminate',
  STOPPED_BY_PUBLISHER_STOP: 'Stopped by publisher stop',
  STOPPED_BY_USER: 'Stopped by user',
  FAILED_BY_ERROR: 'Failed by error',
  PUBLISH_STREAM_IS_NOT_READY: 'Publish stream is not ready',
  STREAM_NOT_FOUND: 'Stream not found',
  STREAM_NAME_ALREADY_IN_USE: 'Stream name is already in use',
  MEDIASESSION_ID_NULL: 'MediaSessionId is null',
  MEDIASESSION_ID_ALREADY_IN_USE: 'MediaSessionId is already in use',
  SESSION_NOT_READY: 'Session not ready',
  SESSION_DOES_NOT_EXIST: 'Session does not exist',
  NO_COMMON_CODECS: 'No common codecs',
  RESTRICTED_ACCESS: 'Restricted access',
  TRANSCODING_REQUIRED_BUT_DISABLED: 'Transcoding required, but disabled',
} as const);

/** Texts of a call's `info`. */
export const CALL_STATUS_INFO = Object.freeze({
  NORMAL_CALL_CLEARING: 'Normal call clearing',
  FAILED_BY_SESSION_CREATION: 'Failed by session creation',
  FAILED_BY_RTP_ACTIVITY: 'Failed by RTP activity',
  FAILED_BY_ERROR: 'Failed by error',
  FAILED_BY_REQUEST_TIMEOUT: 'Failed by request timeout',
  NO_COMMON_CODECS: 'No common codecs',
} as const);

/** Messages of the errors the SDK throws. */
export const ERROR_INFO = Object.freeze({
  FLASHPHONER_API_NOT_INITIALIZED: 'Flashphoner API is not initialized',
  OPTIONS_URLSERVER_MUST_BE_PROVIDED: 'options.urlServer must be provided',
  INVALID_SESSION_STATE: 'Invalid session state',
  OPTIONS_MUST_BE_PROVIDED: 'options must be provided',
  INVALID_CALL_STATE: 'Invalid call state',
  OPTIONS_NAME_MUST_BE_PROVIDED: 'options.name must be provided',
  EVENT_CANT_BE_NULL: "Event can't be null",
  CALLBACK_NEEDS_TO_BE_A_VALID_FUNCTION: 'Callback needs to be a valid function',
  /** `stream.getInfo()` after a failure inside the browser (Flashphoner value). */
  LOCAL_ERROR: 'Local error',
} as const);

/** Message of the error `play()` / `snapshot()` throw in a wrong state. */
export const INVALID_STREAM_STATE = 'Invalid stream state' as const;

/** Media transport the server should use for a stream. */
export const TRANSPORT_TYPE = Object.freeze({
  UDP: 'UDP',
  TCP: 'TCP',
} as const);

/** Connection quality grades (the `UPDATE` stream event). */
export const CONNECTION_QUALITY = Object.freeze({
  PERFECT: 'PERFECT',
  GOOD: 'GOOD',
  BAD: 'BAD',
  UNKNOWN: 'UNKNOWN',
  UPDATE: 'UPDATE',
} as const);

/** A value of {@link SESSION_STATUS}. */
export type SessionStatus = (typeof SESSION_STATUS)[keyof typeof SESSION_STATUS];
/** A value of {@link STREAM_STATUS}. */
export type StreamStatus = (typeof STREAM_STATUS)[keyof typeof STREAM_STATUS];
/** A value of {@link STREAM_EVENT_TYPE}. */
export type StreamEventType = (typeof STREAM_EVENT_TYPE)[keyof typeof STREAM_EVENT_TYPE];
/** A value of {@link CALL_STATUS}. */
export type CallStatus = (typeof CALL_STATUS)[keyof typeof CALL_STATUS];
/** A value of {@link STREAM_STATUS_INFO}. */
export type StreamStatusInfo = (typeof STREAM_STATUS_INFO)[keyof typeof STREAM_STATUS_INFO];
/** A value of {@link CALL_STATUS_INFO}. */
export type CallStatusInfo = (typeof CALL_STATUS_INFO)[keyof typeof CALL_STATUS_INFO];
/** A value of {@link ERROR_INFO}. */
export type ErrorInfo = (typeof ERROR_INFO)[keyof typeof ERROR_INFO];
/** A value of {@link TRANSPORT_TYPE}. */
export type TransportType = (typeof TRANSPORT_TYPE)[keyof typeof TRANSPORT_TYPE];
/** A value of {@link CONNECTION_QUALITY}. */
export type ConnectionQuality = (typeof CONNECTION_QUALITY)[keyof typeof CONNECTION_QUALITY];

/** Status values that change `stream.status()` (all but RESIZE, SNAPSHOT_COMPLETE, NOT_ENOUGH_BANDWIDTH). */
export type StreamState = Exclude<StreamStatus, 'RESIZE' | 'SNAPSHOT_COMPLETE' | 'NOT_ENOUGH_BANDWIDTH'>;

/** The `constants` namespace object exposed as `Flashphoner.constants`. */
export const constants = Object.freeze({
  SESSION_STATUS,
  STREAM_STATUS,
  CALL_STATUS,
  STREAM_STATUS_INFO,
  CALL_STATUS_INFO,
  ERROR_INFO,
  TRANSPORT_TYPE,
  CONNECTION_QUALITY,
  STREAM_EVENT,
  STREAM_EVENT_TYPE,
} as const);
