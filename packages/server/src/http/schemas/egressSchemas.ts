/**
 * JSON Schemas of the RTMP push and recorder REST methods (wire contract §4). They validate
 * requests (ajv; "true"/"false" strings coerced to booleans as WCS clients send them) and can
 * generate docs/rest-api.md like the call schemas.
 */
const streamName = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f]+$' } as const;
const mediaSessionId = { type: 'string', minLength: 1, maxLength: 128 } as const;
const rtmpUrl = { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[Rr][Tt][Mm][Pp][Ss]?://' } as const;

export const pushStartupSchema = {
  $id: 'push/startup',
  description:
    'Republishes a stream to an RTMP server (H.264 copied, audio as AAC). The target is `rtmpUrl + "/rtmp_" + streamName`, or `rtmpUrl` itself with `rtmpTransponderFullUrl`. 404 unknown stream, 409 that stream is already pushed to that target. A stream reserved by `/call/startup` is pushed once its media flows.',
  type: 'object',
  required: ['streamName', 'rtmpUrl'],
  additionalProperties: true,
  properties: {
    streamName: { ...streamName, description: 'The stream to push' },
    rtmpUrl: { ...rtmpUrl, description: 'rtmp:// or rtmps:// URL of the server application (or the full target)' },
    rtmpTransponderFullUrl: { type: 'boolean', default: false, description: '`rtmpUrl` is the full target: no `/rtmp_<streamName>` is appended' },
    options: { type: 'object', description: 'Echoed back (default `{}`); `{"action": "mute"}` starts the push muted' },
  },
} as const;

export const pushFindSchema = {
  $id: 'push/find',
  description: 'Pushes (live, and ended ones for 60 s) matching every given field; 404 when none.',
  type: 'object',
  additionalProperties: true,
  properties: {
    streamName: { type: 'string', maxLength: 256, description: 'The pushed stream' },
    rtmpUrl: { type: 'string', maxLength: 1024, description: 'The effective target or the `rtmpUrl` given at startup' },
  },
} as const;

export const pushIdSchema = {
  $id: 'push/terminate',
  description: 'Stops (`/push/terminate`), mutes (`/push/mute`: the audio becomes silence, the FLV audio track goes on) or unmutes (`/push/unmute`) a live push. 404 when no live push has that id.',
  type: 'object',
  required: ['mediaSessionId'],
  additionalProperties: true,
  properties: { mediaSessionId: { ...mediaSessionId, description: 'The id /push/startup answered' } },
} as const;

export const recorderRefSchema = {
  $id: 'recorder/startup',
  description:
    '`/recorder/startup` records a stream (MP4: H.264 + AAC) from its next keyframe, 409 if it is already recorded; `/recorder/terminate` stops and finalises the recording, 404 if there is none. Give the stream by `mediaSessionId` or `streamName`.',
  type: 'object',
  additionalProperties: true,
  properties: {
    mediaSessionId: { ...mediaSessionId, description: "The stream's mediaSessionId (as in /stream/find)" },
    streamName: { ...streamName, description: 'The stream name' },
  },
} as const;
