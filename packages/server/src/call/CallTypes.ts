/** CALL_STATUS of the wire contract, as the REST API reports it. */
export const CALL_STATUS = {
  NEW: 'NEW',
  PENDING: 'PENDING',
  TRYING: 'TRYING',
  RING: 'RING',
  RING_MEDIA: 'RING_MEDIA',
  SESSION_PROGRESS: 'SESSION_PROGRESS',
  ESTABLISHED: 'ESTABLISHED',
  HOLD: 'HOLD',
  BUSY: 'BUSY',
  FAILED: 'FAILED',
  FINISH: 'FINISH',
} as const;
export type CallStatus = (typeof CALL_STATUS)[keyof typeof CALL_STATUS];

/** CALL_STATUS_INFO texts. */
export const CALL_INFO = {
  NORMAL_CALL_CLEARING: 'Normal call clearing',
  FAILED_BY_SESSION_CREATION: 'Failed by session creation',
  FAILED_BY_RTP_ACTIVITY: 'Failed by RTP activity',
  FAILED_BY_ERROR: 'Failed by error',
  FAILED_BY_REQUEST_TIMEOUT: 'Failed by request timeout',
  NO_COMMON_CODECS: 'No common codecs',
} as const;

/** DTMF transport of /call/send_dtmf. */
export type DtmfType = 'RFC2833' | 'INFO' | 'INFO_RELAY';

/** A validated /call/startup request. */
export interface CallStartup {
  readonly callId: string;
  readonly callee: string;
  readonly toStream: string;
  readonly hasAudio: boolean;
  readonly hasVideo: boolean;
  readonly sipLogin: string;
  readonly sipAuthenticationName?: string;
  readonly sipPassword?: string;
  readonly sipDomain: string;
  readonly sipOutboundProxy?: string;
  readonly sipPort?: number;
  readonly sipTransport: 'udp' | 'tcp';
  readonly sipRegisterRequired: boolean;
  readonly appKey?: string;
  readonly visibleName?: string;
  readonly rtmpUrl?: string;
  readonly rtmpStream?: string;
  readonly custom?: Record<string, unknown>;
}

/** What /call/find answers for one call (WCS Call object). */
export interface CallJson {
  callId: string;
  incoming: boolean;
  status: CallStatus;
  sipStatus: number;
  info: string;
  caller: string;
  callee: string;
  hasAudio: boolean;
  hasVideo: boolean;
  streamName: string;
  rtmpUrl: string;
  rtmpStream: string;
  visibleName: string;
  appKey: string;
  sessionId: string;
  custom: Record<string, unknown>;
  audioCodec: string;
  videoCodec: string;
  startTime: number;
}
