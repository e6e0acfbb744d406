import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSettings, parseSettingsFile, SettingsError } from './Settings.js';

test('defaults are loopback-only and need no token', () => {
  const s = loadSettings({});
  assert.equal(s.bind, '127.0.0.1');
  assert.equal(s.wsPort, 8080);
  assert.equal(s.httpPort, 8081);
  assert.equal(s.call.rtpSessionInitAlways, true);
  assert.equal(s.restToken, '');
});

test('file (JSON or properties) then environment; strings coerced and checked', () => {
  const props = parseSettingsFile('# WCS style\nsip_port = 5099\nrtp_session_init_always=false\ncallee_allow_pattern=bob|carol\n');
  const s = loadSettings({ SIPCAST_SIP_PORT: '5100' }, props);
  assert.equal(s.call.sipPort, 5100, 'environment wins');
  assert.equal(s.call.rtpSessionInitAlways, false);
  assert.ok(s.call.calleeAllowPattern?.test('carol'));
  assert.ok(!s.call.calleeAllowPattern?.test('carol2'), 'full match');
  const json = parseSettingsFile('{"max_calls": 7, "cors_origins": ["https://a.example", "https://b.example"]}');
  const j = loadSettings({}, json);
  assert.equal(j.call.maxCalls, 7);
  assert.deepEqual(j.corsOrigins, ['https://a.example', 'https://b.example']);
});

test('bad values, unknown keys and an open bind without tokens are refused with the key named', () => {
  assert.throws(() => loadSettings({ SIPCAST_WS_PORT: 'abc' }), /ws_port/);
  assert.throws(() => loadSettings({ SIPCAST_DEMO: 'maybe' }), /demo/);
  assert.throws(() => loadSettings({}, new Map([['no_such_key', '1']])), /unknown setting "no_such_key"/);
  assert.throws(() => loadSettings({ SIPCAST_CALLEE_ALLOW_PATTERN: '(' }), /callee_allow_pattern/);
  assert.throws(() => loadSettings({ SIPCAST_BIND: '0.0.0.0' }), (e: unknown) => e instanceof SettingsError && /rest_token/.test(e.message));
  const ok = loadSettings({ SIPCAST_BIND: '0.0.0.0', SIPCAST_REST_TOKEN: 'r', SIPCAST_WS_TOKEN: 'w' });
  assert.equal(ok.restToken, 'r');
  assert.throws(() => parseSettingsFile('{oops'), SettingsError);
  assert.throws(() => parseSettingsFile('just words'), SettingsError);
});
