import assert from 'node:assert/strict';
import { beforeEach, mock, test } from 'node:test';
import { createSession } from './api';
import { SESSION_STATUS, STREAM_STATUS } from './constants';
import type { Session } from './Session';
import { FakeWebSocket, flush, installFakes } from './testing/fakes';
import { connectedSession, initQuiet } from './testing/harness';

beforeEach(() => {
  installFakes();
  initQuiet();
});

function recordStatuses(session: Session): string[] {
  const seen: string[] = [];
  for (const s of [SESSION_STATUS.CONNECTED, SESSION_STATUS.ESTABLISHED, SESSION_STATUS.DISCONNECTED, SESSION_STATUS.FAILED] as const) {
    session.addListener(s, () => seen.push(s));
  }
  return seen;
}

test('handshake: PENDING -> CONNECTED -> connection -> getUserData -> ESTABLISHED', async () => {
  const session = createSession({ urlServer: 'wss://sipcast.test:8443', custom: { room: 7 } });
  const seen = recordStatuses(session);
  const ws = FakeWebSocket.last();
  assert.equal(session.status(), 'PENDING');
  assert.equal(session.getServerUrl(), 'wss://sipcast.test:8443');
  assert.equal(ws.sent.length, 0, 'nothing is sent before the socket opens');

  ws.serverOpen();
  assert.equal(session.status(), 'CONNECTED');
  assert.deepEqual(seen, ['CONNECTED']);
  const frames = ws.frames();
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.message, 'connection');
  assert.equal(frames[0]!.data.length, 1);
  assert.deepEqual(frames[0]!.data[0], {
    appKey: 'defaultApp',
    mediaProviders: ['WebRTC'],
    clientVersion: '2.0',
    clientOSVersion: '5.0 (FakeOS)',
    clientBrowserVersion: 'FakeBrowser/1.0',
    custom: { room: 7 },
  });

  let established: unknown[] = [];
  session.on(SESSION_STATUS.ESTABLISHED, (...args) => {
    established = args;
  });
  ws.serverSend('getUserData', { sessionId: 'srv-9', authToken: 'tok-9', appKey: 'defaultApp' });
  assert.equal(session.status(), 'ESTABLISHED');
  assert.deepEqual(seen, ['CONNECTED', 'ESTABLISHED']);
  assert.equal(established[0], session);
  assert.deepEqual(established[1], { sessionId: 'srv-9', authToken: 'tok-9', appKey: 'defaultApp' });
  assert.equal(session.getAuthToken(), 'tok-9');
  assert.equal(session.getUserData()?.sessionId, 'srv-9');

  session.disconnect();
  await flush();
  assert.equal(session.status(), 'DISCONNECTED');
  assert.deepEqual(seen, ['CONNECTED', 'ESTABLISHED', 'DISCONNECTED']);
  assert.deepEqual(ws.closeCalls, [undefined], 'disconnect() closes without a code (1005)');
});

test('connection carries appKey, keepAlive, authToken and sip* fields when given', () => {
  createSession({
    urlServer: 'ws://h:8080',
    appKey: 'myApp',
    keepAlive: true,
    authToken: 'given',
    sipOptions: { login: 'alice', password: 'pw', domain: 'sip.test', port: 5060, registerRequired: false },
  });
  const ws = FakeWebSocket.last();
  ws.serverOpen();
  const c = ws.lastData('connection');
  assert.equal(c['appKey'], 'myApp');
  assert.equal(c['keepAlive'], true);
  assert.equal(c['authToken'], 'given');
  assert.equal(c['sipLogin'], 'alice');
  assert.equal(c['sipPassword'], 'pw');
  assert.equal(c['sipDomain'], 'sip.test');
  assert.equal(c['sipPort'], 5060);
  assert.equal(c['sipRegisterRequired'], false);
});

test('getUserData with an empty object is enough for ESTABLISHED', async () => {
  const { session } = await connectedSession({}, {});
  assert.equal(session.status(), 'ESTABLISHED');
  assert.equal(session.getAuthToken(), undefined);
});

test('server ping is answered with exactly {"message":"pong","data":[null]}', async () => {
  const { ws } = await connectedSession();
  const before = ws.sent.length;
  ws.serverSend('ping');
  ws.serverSendRaw('{"message":"ping","data":[]}');
  assert.deepEqual(ws.sent.slice(before), ['{"message":"pong","data":[null]}', '{"message":"pong","data":[null]}']);
});

test('malformed frames are ignored without breaking the session', async () => {
  const { session, ws } = await connectedSession();
  ws.serverSendRaw('not json');
  ws.serverSendRaw('{"data":[]}');
  ws.serverSendRaw('{"message":"ping"}');
  assert.equal(session.status(), 'ESTABLISHED');
  assert.equal(ws.framesNamed('pong').length, 1, 'a ping without data is still answered');
});

test('socket error -> FAILED, and no DISCONNECTED after it', async () => {
  const { session, ws } = await connectedSession();
  const seen = recordStatuses(session);
  ws.serverError();
  await flush();
  assert.equal(session.status(), 'FAILED');
  assert.deepEqual(seen, ['FAILED']);
});

test('a socket that never opens fails after `timeout`', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const session = createSession({ urlServer: 'ws://h:8080', timeout: 1000 });
    const seen = recordStatuses(session);
    mock.timers.tick(999);
    assert.equal(session.status(), 'PENDING');
    mock.timers.tick(1);
    assert.equal(session.status(), 'FAILED');
    assert.deepEqual(seen, ['FAILED']);
    assert.equal(FakeWebSocket.last().closeCalls.length, 1, 'the socket is closed');
  } finally {
    mock.timers.reset();
  }
});

test('keep-alive: pingInterval sends pings; missed receiveProbes -> FAILED', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const { session, ws } = await connectedSession({ pingInterval: 500, receiveProbes: 3, probesInterval: 1000 });
    mock.timers.tick(1000);
    assert.equal(ws.framesNamed('ping').length, 2);
    assert.deepEqual(ws.framesNamed('ping')[0], { message: 'ping', data: [null] });
    mock.timers.tick(1000); // 2 probes missed
    ws.serverSend('ping'); // any message resets the count
    mock.timers.tick(2000);
    assert.equal(session.status(), 'ESTABLISHED');
    mock.timers.tick(1000);
    assert.equal(session.status(), 'FAILED');
    const pings = ws.framesNamed('ping').length;
    mock.timers.tick(5000);
    assert.equal(ws.framesNamed('ping').length, pings, 'pings stop after FAILED');
  } finally {
    mock.timers.reset();
  }
});

test('createStream: "Invalid session state" unless ESTABLISHED, TypeError without name', async () => {
  const session = createSession({ urlServer: 'ws://h:8080' });
  assert.throws(() => session.createStream({ name: 'a' }), { name: 'Error', message: 'Invalid session state' });
  FakeWebSocket.last().serverOpen();
  assert.throws(() => session.createStream({ name: 'a' }), { message: 'Invalid session state' });
  FakeWebSocket.last().serverSend('getUserData', {});
  assert.throws(() => session.createStream({} as never), { name: 'TypeError', message: 'options.name must be provided' });
  assert.throws(() => session.createStream({ name: '' }), { name: 'TypeError', message: 'options.name must be provided' });
  assert.throws(() => session.createStream(undefined as never), { name: 'TypeError', message: 'options must be provided' });
  const stream = session.createStream({ name: 'a' });
  assert.equal(session.getStream(stream.id()), stream);
  assert.deepEqual(session.getStreams(), [stream]);
  FakeWebSocket.last().serverClose();
  assert.throws(() => session.createStream({ name: 'b' }), { message: 'Invalid session state' });
});

test('on() keeps ONE callback per event; addListener adds more', async () => {
  const session = createSession({ urlServer: 'ws://h:8080' });
  const calls: string[] = [];
  const returned = session
    .on(SESSION_STATUS.CONNECTED, () => calls.push('first'))
    .on(SESSION_STATUS.CONNECTED, () => calls.push('second'));
  assert.equal(returned, session, 'on() is chainable');
  session.addListener(SESSION_STATUS.CONNECTED, () => calls.push('listener-a'));
  session.addListener(SESSION_STATUS.CONNECTED, () => calls.push('listener-b'));
  FakeWebSocket.last().serverOpen();
  assert.deepEqual(calls.sort(), ['listener-a', 'listener-b', 'second']);
});

test('removeListener removes an addListener listener; on() validates its arguments', () => {
  const session = createSession({ urlServer: 'ws://h:8080' });
  let n = 0;
  const fn = (): void => {
    n++;
  };
  session.addListener(SESSION_STATUS.CONNECTED, fn).removeListener(SESSION_STATUS.CONNECTED, fn);
  FakeWebSocket.last().serverOpen();
  assert.equal(n, 0);
  assert.throws(() => session.on(null as never, () => undefined), { name: 'TypeError', message: "Event can't be null" });
  assert.throws(() => session.on(SESSION_STATUS.FAILED, 'nope' as never), {
    message: 'Callback needs to be a valid function',
  });
});

test('a throwing callback does not break the session', async () => {
  const session = createSession({ urlServer: 'ws://h:8080', logger: null });
  session.on(SESSION_STATUS.CONNECTED, () => {
    throw new Error('user bug');
  });
  const ws = FakeWebSocket.last();
  ws.serverOpen();
  assert.equal(ws.framesNamed('connection').length, 1);
  ws.serverSend('getUserData', {});
  assert.equal(session.status(), 'ESTABLISHED');
});

test('fail -> WARN with the payload; OnDataEvent -> APP_DATA', async () => {
  const { session, ws } = await connectedSession();
  const warns: unknown[] = [];
  const data: unknown[] = [];
  session.on(SESSION_STATUS.WARN, (f) => warns.push(f)).on(SESSION_STATUS.APP_DATA, (d) => data.push(d));
  ws.serverSend('fail', { apiMethod: 'playStream', id: 'x', info: 'nope' });
  ws.serverSend('OnDataEvent', { payload: { hello: 1 } });
  assert.deepEqual(warns, [{ apiMethod: 'playStream', id: 'x', info: 'nope' }]);
  assert.deepEqual(data, [{ payload: { hello: 1 } }]);
  assert.equal(session.status(), 'ESTABLISHED');
});

test('sendData resolves on ACCEPTED, rejects on FAILED, rejects when the session ends', async () => {
  const { session, ws } = await connectedSession();
  const accepted = session.sendData({ a: 1 });
  const refused = session.sendData({ b: 2 });
  const frames = ws.framesNamed('sendData');
  assert.equal(frames.length, 2);
  const op1 = (frames[0]!.data[0] as { operationId: string; payload: unknown });
  const op2 = (frames[1]!.data[0] as { operationId: string; payload: unknown });
  assert.deepEqual(op1.payload, { a: 1 });
  assert.notEqual(op1.operationId, op2.operationId);
  ws.serverSend('DataStatusEvent', { operationId: op2.operationId, status: 'FAILED', info: 'bad' });
  ws.serverSend('DataStatusEvent', { operationId: op1.operationId, status: 'ACCEPTED' });
  assert.deepEqual(await accepted, { status: 'ACCEPTED' });
  await assert.rejects(refused, (e: unknown) => (e as { status: string }).status === 'FAILED');
  const pending = session.sendData('later');
  ws.serverClose();
  await assert.rejects(pending, Error);
  await assert.rejects(session.sendData('after'), { message: 'Invalid session state' });
});

test('DISCONNECTED fails every stream of the session, NEW ones included', async () => {
  const { session, ws } = await connectedSession();
  const a = session.createStream({ name: 'a' });
  const b = session.createStream({ name: 'b' });
  a.play();
  await flush();
  const order: string[] = [];
  a.on(STREAM_STATUS.FAILED, () => order.push('a FAILED'));
  b.on(STREAM_STATUS.FAILED, () => order.push('b FAILED'));
  session.on(SESSION_STATUS.DISCONNECTED, () => order.push('session DISCONNECTED'));
  ws.serverClose(1001);
  assert.deepEqual(order, ['a FAILED', 'b FAILED', 'session DISCONNECTED']);
  assert.equal(a.status(), 'FAILED');
  assert.equal(b.status(), 'FAILED');
  assert.deepEqual(session.getStreams(), []);
});
