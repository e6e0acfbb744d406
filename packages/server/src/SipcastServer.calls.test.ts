import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadSettings } from './config/Settings.js';
import { SipcastServer } from './SipcastServer.js';
import { WcsTestClient } from './testing/WcsTestClient.js';
import { Logger } from './util/Logger.js';

let server: SipcastServer;
let rest: string;
let demoHostPort: string;

before(async () => {
  const settings = loadSettings({
    SIPCAST_WS_PORT: '0',
    SIPCAST_HTTP_PORT: '0',
    SIPCAST_SIP_PORT: '0',
    SIPCAST_DEMO: 'false',
    SIPCAST_DEMO_CALLEE: 'true',
    SIPCAST_DEMO_CALLEE_PORT: '0',
    SIPCAST_RTP_PORT_MIN: '31000',
    SIPCAST_RTP_PORT_MAX: '31199',
  });
  server = new SipcastServer(settings, new Logger('silent'));
  await server.start();
  rest = `http://127.0.0.1:${server.httpPort}/rest-api`;
  demoHostPort = server.demoCalleeUri!.replace('sip:demo@', '');
});

after(async () => {
  await server.stop();
});

async function post(method: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${rest}/${method}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

async function waitStatus(callId: string, want: string, ms = 8000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    const r = await post('call/find', { callId });
    last = r.json;
    if (r.status === 200 && (r.json as Record<string, unknown>[])[0]!['status'] === want) return (r.json as Record<string, unknown>[])[0]!;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`call ${callId} never reached ${want}; last ${JSON.stringify(last)}`);
}

test('REST call to the demo callee becomes a stream a WebRTC viewer receives; terminate sends BYE', async () => {
  const start = await post('call/startup', {
    callId: 'demo-1',
    callee: 'demo',
    toStream: 'call-demo-1',
    sipLogin: 'caller',
    sipDomain: demoHostPort,
    hasAudio: 'true',
    hasVideo: 'true',
  });
  assert.equal(start.status, 200, JSON.stringify(start.json));
  assert.equal(start.json, undefined, 'empty body');
  const dup = await post('call/startup', { callId: 'demo-1', callee: 'demo', toStream: 'x', sipLogin: 'c', sipDomain: demoHostPort });
  assert.equal(dup.status, 409);
  const taken = await post('call/startup', { callId: 'demo-2', callee: 'demo', toStream: 'call-demo-1', sipLogin: 'c', sipDomain: demoHostPort });
  assert.equal(taken.status, 409);
  const call = await waitStatus('demo-1', 'ESTABLISHED');
  assert.equal(call['sipStatus'], 200);
  assert.equal(call['audioCodec'], 'opus');
  assert.equal(call['videoCodec'], 'H264');

  const c = await WcsTestClient.connect(`ws://127.0.0.1:${server.wsPort}`);
  await c.establish();
  const { rx } = await c.play('call-demo-1');
  await c.status(rx.mediaSessionId, 'PLAYING');
  const resize = await c.status(rx.mediaSessionId, 'RESIZE', 8000);
  assert.equal(resize['playerVideoWidth'], 640);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(rx.received.video > 20, `video ${rx.received.video}`);
  assert.ok(rx.received.audio > 20, `audio ${rx.received.audio}`);

  const dtmf = await post('call/send_dtmf', { callId: 'demo-1', dtmf: '12#', type: 'RFC2833' });
  assert.equal(dtmf.status, 200, JSON.stringify(dtmf.json));
  const badDtmf = await post('call/send_dtmf', { callId: 'demo-1', dtmf: 'xyz' });
  assert.equal(badDtmf.status, 400);

  assert.equal((await post('call/terminate', { callId: 'demo-1' })).status, 200);
  const stopped = await c.status(rx.mediaSessionId, 'STOPPED', 5000);
  assert.equal(stopped['info'], 'Stopped by publisher stop');
  const end = Date.now() + 5000;
  while (Date.now() < end && (await post('call/find', { callId: 'demo-1' })).status !== 404) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await post('call/find', { callId: 'demo-1' })).status, 404, 'an ended call is gone');
  assert.equal((await post('call/terminate', { callId: 'demo-1' })).status, 404);
  rx.close();
  c.close();
});

test('a viewer who plays the reserved name before media flows waits and then receives frames', async () => {
  const c = await WcsTestClient.connect(`ws://127.0.0.1:${server.wsPort}`);
  await c.establish();
  const start = await post('call/startup', { callId: 'early', callee: 'demo', toStream: 'call-early', sipLogin: 'caller', sipDomain: demoHostPort, hasAudio: true, hasVideo: true });
  assert.equal(start.status, 200);
  const { rx } = await c.play('call-early');
  await c.status(rx.mediaSessionId, 'PLAYING', 8000);
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(rx.received.video > 10, `video ${rx.received.video}`);
  await post('call/terminate', { callId: 'early' });
  await c.status(rx.mediaSessionId, 'STOPPED', 5000);
  rx.close();
  c.close();
});

test('PCMU-only and audio-only calls; bad REST input is a 400 naming the field', async () => {
  const r = await post('call/startup', { callId: 'ao', callee: 'demo', toStream: 'call-ao', sipLogin: 'caller', sipDomain: demoHostPort, hasVideo: 'false' });
  assert.equal(r.status, 200);
  const call = await waitStatus('ao', 'ESTABLISHED');
  assert.equal(call['videoCodec'], '');
  assert.equal(call['hasVideo'], false);
  await post('call/terminate', { callId: 'ao' });
  for (const [body, field] of [
    [{ callee: 'demo', toStream: 's', sipLogin: 'a', sipDomain: 'x' }, 'callId'],
    [{ callId: 'a', callee: 'demo', toStream: 's', sipLogin: 'a', sipDomain: 'x', sipPort: 'abc' }, 'sipPort'],
    [{ callId: 'a', callee: 'demo', toStream: 's', sipLogin: 'a', sipDomain: 'x', hasAudio: 'maybe' }, 'hasAudio'],
    [{ callId: 'a', callee: 'demo', toStream: 's', sipLogin: 'a', sipDomain: 'x', rtmpUrl: 'http://x' }, 'rtmpUrl'],
  ] as const) {
    const bad = await post('call/startup', body);
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.match((bad.json as Record<string, string>)['message']!, new RegExp(field));
  }
});
