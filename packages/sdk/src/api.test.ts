import assert from 'node:assert/strict';
import { test } from 'node:test';
import Flashphoner, * as api from './index';
import { FakeWebSocket, installFakes } from './testing/fakes';

installFakes();

// Runs first, in a fresh process: nothing has called init() yet.
test('createSession before init throws the Flashphoner error', () => {
  assert.throws(() => api.createSession({ urlServer: 'ws://x:8080' }), {
    name: 'Error',
    message: 'Flashphoner API is not initialized',
  });
  assert.equal(FakeWebSocket.instances.length, 0);
});

test('init is idempotent and reports the media providers', async () => {
  const seen: string[][] = [];
  await api.init({ logger: null, mediaProvidersReadyCallback: (p) => seen.push(p) });
  await api.init({ mediaProvidersReadyCallback: (p) => seen.push(p) });
  assert.deepEqual(seen, [['WebRTC']]);
  assert.deepEqual(api.getMediaProviders(), ['WebRTC']);
});

test('createSession without urlServer throws TypeError', () => {
  assert.throws(() => api.createSession({} as never), { name: 'TypeError', message: 'options.urlServer must be provided' });
  assert.throws(() => api.createSession(undefined as never), TypeError);
});

test('createSession registers the session until it ends', async () => {
  const session = api.createSession({ urlServer: 'ws://sipcast.test:8080' });
  assert.equal(FakeWebSocket.last().url, 'ws://sipcast.test:8080');
  assert.equal(api.getSession(session.id()), session);
  assert.ok(api.getSessions().includes(session));
  assert.match(session.id(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  FakeWebSocket.last().serverClose();
  assert.equal(api.getSession(session.id()), undefined);
  assert.ok(!api.getSessions().includes(session));
});

test('default export is the Flashphoner object with the same functions', () => {
  for (const name of [
    'init',
    'createSession',
    'getSessions',
    'getSession',
    'getMediaProviders',
    'playFirstSound',
    'playFirstVideo',
    'getLogger',
  ] as const) {
    assert.equal(typeof Flashphoner[name], 'function', name);
    assert.equal(Flashphoner[name], api[name], name);
  }
  assert.equal(Flashphoner.constants, api.constants);
  assert.equal(Flashphoner.constants.SESSION_STATUS.ESTABLISHED, 'ESTABLISHED');
  assert.equal(typeof api.getLogger().info, 'function');
});

test('constant tables have the exact contract values', () => {
  const c = api.constants;
  assert.deepEqual(Object.keys(c.SESSION_STATUS), [
    'CONNECTED', 'ESTABLISHED', 'DISCONNECTED', 'WARN', 'FAILED', 'DEBUG', 'APP_DATA',
    'SEND_DATA_STATUS', 'PENDING', 'REGISTERED', 'UNREGISTERED', 'INCOMING_CALL',
  ]);
  for (const table of [c.SESSION_STATUS, c.STREAM_STATUS, c.CALL_STATUS, c.TRANSPORT_TYPE, c.CONNECTION_QUALITY]) {
    for (const [k, v] of Object.entries(table)) assert.equal(v, k);
  }
  assert.deepEqual(Object.keys(c.STREAM_STATUS), [
    'NEW', 'PENDING', 'PUBLISHING', 'PLAYING', 'PAUSED', 'UNPUBLISHED', 'STOPPED', 'FAILED',
    'PLAYBACK_PROBLEM', 'RESIZE', 'SNAPSHOT_COMPLETE', 'NOT_ENOUGH_BANDWIDTH',
  ]);
  assert.deepEqual(Object.keys(c.CALL_STATUS), [
    'NEW', 'RING', 'RING_MEDIA', 'HOLD', 'ESTABLISHED', 'FINISH', 'BUSY', 'SESSION_PROGRESS', 'FAILED', 'PENDING', 'TRYING',
  ]);
  assert.equal(c.STREAM_EVENT, 'STREAM_EVENT');
  assert.deepEqual(c.STREAM_EVENT_TYPE, {
    AUDIO_MUTED: 'audioMuted', AUDIO_UNMUTED: 'audioUnmuted', VIDEO_MUTED: 'videoMuted', VIDEO_UNMUTED: 'videoUnmuted',
    DATA: 'data', SNAPSHOT_COMPLETED: 'snapshotCompleted', SNAPSHOT_FAILED: 'snapshotFailed', RESIZE: 'resize',
    NOT_ENOUGH_BANDWIDTH: 'notEnoughBandwidth',
  });
  assert.equal(c.STREAM_STATUS_INFO.FAILED_BY_KEEP_ALIVE, 'Failed by ICE keep alive');
  assert.equal(c.STREAM_STATUS_INFO.STOPPED_BY_REST_TERMINATE, 'Stopped by rest /terminate');
  assert.equal(c.STREAM_STATUS_INFO.STREAM_NAME_ALREADY_IN_USE, 'Stream name is already in use');
  assert.equal(c.STREAM_STATUS_INFO.TRANSCODING_REQUIRED_BUT_DISABLED, 'Transcoding required, but disabled');
  assert.equal(Object.keys(c.STREAM_STATUS_INFO).length, 22);
  assert.deepEqual(c.CALL_STATUS_INFO, {
    NORMAL_CALL_CLEARING: 'Normal call clearing', FAILED_BY_SESSION_CREATION: 'Failed by session creation',
    FAILED_BY_RTP_ACTIVITY: 'Failed by RTP activity', FAILED_BY_ERROR: 'Failed by error',
    FAILED_BY_REQUEST_TIMEOUT: 'Failed by request timeout', NO_COMMON_CODECS: 'No common codecs',
  });
  assert.deepEqual(
    [
      c.ERROR_INFO.FLASHPHONER_API_NOT_INITIALIZED, c.ERROR_INFO.OPTIONS_URLSERVER_MUST_BE_PROVIDED,
      c.ERROR_INFO.INVALID_SESSION_STATE, c.ERROR_INFO.OPTIONS_MUST_BE_PROVIDED, c.ERROR_INFO.INVALID_CALL_STATE,
      c.ERROR_INFO.OPTIONS_NAME_MUST_BE_PROVIDED, c.ERROR_INFO.EVENT_CANT_BE_NULL, c.ERROR_INFO.CALLBACK_NEEDS_TO_BE_A_VALID_FUNCTION,
    ],
    [
      'Flashphoner API is not initialized', 'options.urlServer must be provided', 'Invalid session state',
      'options must be provided', 'Invalid call state', 'options.name must be provided', "Event can't be null",
      'Callback needs to be a valid function',
    ],
  );
  assert.ok(Object.isFrozen(c.STREAM_STATUS));
});

test('playFirstVideo leaves a cached <video> that the next play reuses', async () => {
  const { document } = installFakes();
  const display = document.createElement('div');
  await api.playFirstVideo(display as unknown as HTMLElement, false, 'data:video/mp4;base64,AAAA');
  assert.equal(display.children.length, 1);
  assert.match(display.children[0]!.id, /-REMOTE_CACHED_VIDEO$/);
  assert.equal(display.children[0]!.hasAttribute('src'), false);
  await api.playFirstVideo(display as unknown as HTMLElement, false, 'data:video/mp4;base64,AAAA');
  assert.equal(display.children.length, 1, 'no second element while a cached one exists');
});
