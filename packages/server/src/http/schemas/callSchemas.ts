/**
 * JSON Schemas of the call REST methods. They validate requests (ajv, with strings coerced to
 * booleans and numbers as WCS clients send them) and generate docs/rest-api.md.
 */
export const sipIdentity = { type: 'string', minLength: 1, maxLength: 256 } as const;
const name = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f]+$' } as const;

export const callStartupSchema = {
  $id: 'call/startup',
  description: 'Places a SIP call; its media becomes the stream `toStream`. Answers 200 with an empty body before the callee answers.',
  type: 'object',
  required: ['callId', 'callee', 'toStream', 'sipLogin', 'sipDomain'],
  additionalProperties: true,
  properties: {
    callId: { type: 'string', minLength: 1, maxLength: 128, description: 'Client-chosen id of the call; 409 if a live call has it' },
    callee: { ...sipIdentity, description: 'User part (`bob`) or SIP URI (`sip:bob@host`) to call' },
    toStream: { ...name, description: 'Name of the stream the call becomes; reserved at once; 409 if taken' },
    hasAudio: { type: 'boolean', default: true, description: 'Offer audio (opus, PCMU, PCMA, telephone-event)' },
    hasVideo: { type: 'boolean', default: true, description: 'Offer video (H.264 packetization-mode 1)' },
    sipLogin: { ...sipIdentity, description: 'From user' },
    sipAuthenticationName: { type: 'string', maxLength: 256, description: 'Digest user name when it differs from sipLogin' },
    sipPassword: { type: 'string', maxLength: 1024, description: 'Digest password (opaque; never logged)' },
    sipDomain: { ...sipIdentity, description: 'SIP domain (host[:port]): From/To domain and registrar' },
    sipOutboundProxy: { type: 'string', maxLength: 256, description: 'host[:port] every request is sent to (default: sipDomain)' },
    sipPort: { type: 'integer', minimum: 1, maximum: 65535, description: 'Port of the domain/proxy when they carry none (default 5060)' },
    sipTransport: { type: 'string', enum: ['UDP', 'TCP', 'udp', 'tcp'], default: 'UDP', description: 'sipcast extension: signalling transport' },
    sipRegisterRequired: { type: 'boolean', default: false, description: 'REGISTER before the INVITE, unregister when the call ends' },
    appKey: { type: 'string', maxLength: 256 },
    visibleName: { type: 'string', maxLength: 256, description: 'From display name' },
    rtmpUrl: { type: 'string', maxLength: 1024, pattern: '^rtmps?://', description: 'With rtmpStream: push the call to this RTMP server' },
    rtmpStream: { type: 'string', maxLength: 256 },
    custom: { type: 'object', description: 'Opaque data echoed in /call/find' },
  },
} as const;

export const callFindSchema = {
  $id: 'call/find',
  description: 'Calls matching all given fields (none given: all). 404 when none matches; a finished call is gone, a BUSY or FAILED one after 10 s.',
  type: 'object',
  additionalProperties: true,
  properties: {
    callId: { type: 'string', maxLength: 128 },
    callee: { type: 'string', maxLength: 256 },
    status: { type: 'string', enum: ['NEW', 'PENDING', 'TRYING', 'RING', 'RING_MEDIA', 'SESSION_PROGRESS', 'ESTABLISHED', 'HOLD', 'BUSY', 'FAILED', 'FINISH'] },
  },
} as const;

export const callIdSchema = {
  $id: 'call/terminate',
  description: 'Hangs up: CANCEL before the answer, BYE after. 404 for an unknown call.',
  type: 'object',
  required: ['callId'],
  additionalProperties: true,
  properties: { callId: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

export const sendDtmfSchema = {
  $id: 'call/send_dtmf',
  description: 'Sends DTMF in an established call: RFC 4733 events on the audio stream (RFC2833) or SIP INFO. 404 unknown call, 409 not established.',
  type: 'object',
  required: ['callId', 'dtmf'],
  additionalProperties: true,
  properties: {
    callId: { type: 'string', minLength: 1, maxLength: 128 },
    dtmf: { type: 'string', pattern: '^[0-9*#A-Da-d]{1,32}$', description: 'Digits 0-9 * # A-D' },
    type: { type: 'string', enum: ['RFC2833', 'INFO', 'INFO_RELAY'], default: 'RFC2833' },
  },
} as const;

export const streamTerminateSchema = {
  $id: 'stream/terminate',
  description: 'Ends a stream: viewers get STOPPED "Stopped by rest /terminate"; a call feeding it is hung up.',
  type: 'object',
  additionalProperties: true,
  properties: { mediaSessionId: { type: 'string', maxLength: 128 }, name: { type: 'string', maxLength: 256 } },
} as const;
