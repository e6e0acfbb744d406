/** Texts of the wire contract's STREAM_STATUS_INFO that the server sends as `info`. */
export const STREAM_INFO = {
  STREAM_NOT_FOUND: 'Stream not found',
  STOPPED_BY_USER: 'Stopped by user',
  STOPPED_BY_PUBLISHER_STOP: 'Stopped by publisher stop',
  STOPPED_BY_SESSION_DISCONNECT: 'Stopped by session disconnect',
  STOPPED_BY_REST_TERMINATE: 'Stopped by rest /terminate',
  MEDIASESSION_ID_NULL: 'MediaSessionId is null',
  MEDIASESSION_ID_ALREADY_IN_USE: 'MediaSessionId is already in use',
  SESSION_NOT_READY: 'Session not ready',
  NO_COMMON_CODECS: 'No common codecs',
  FAILED_BY_ERROR: 'Failed by error',
  RESTRICTED_ACCESS: 'Restricted access',
} as const;

export type StreamInfoText = (typeof STREAM_INFO)[keyof typeof STREAM_INFO];

/** Statuses the server reports for a played stream. */
export type ViewerStatus = 'PENDING' | 'PLAYING' | 'STOPPED' | 'FAILED' | 'RESIZE';
