import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { Logger } from './Logger';
import { SignallingClient } from './SignallingClient';
import { FakeWebSocket, flush, installFakes } from './testing/fakes';

beforeEach(() => {
  installFakes();
});

function client(): { c: SignallingClient; ws: FakeWebSocket; events: string[] } {
  const c = new SignallingClient('ws://h:8080', { logger: new Logger(null) });
  const events: string[] = [];
  c.addListener('open', () => events.push('open'));
  c.addListener('message', (name, data) => events.push(`message:${name}:${JSON.stringify(data)}`));
  c.addListener('failed', () => events.push('failed'));
  c.addListener('closed', (code) => events.push(`closed:${code}`));
  return { c, ws: FakeWebSocket.last(), events };
}

test('frames are {message, data:[x]}; nothing is sent before open', () => {
  const { c, ws } = client();
  assert.equal(c.send('connection', { a: 1 }), false);
  ws.serverOpen();
  assert.equal(c.send('connection', { a: 1 }), true);
  assert.equal(c.send('pong', undefined), true);
  assert.deepEqual(ws.sent, ['{"message":"connection","data":[{"a":1}]}', '{"message":"pong","data":[null]}']);
});

test('server messages are emitted with their data array; ping is answered, not emitted', () => {
  const { ws, events } = client();
  ws.serverOpen();
  ws.serverSend('setRemoteSDP', 'id-1', 'v=0');
  ws.serverSend('ping');
  assert.deepEqual(events, ['open', 'message:setRemoteSDP:["id-1","v=0"]']);
  assert.deepEqual(ws.framesNamed('pong'), [{ message: 'pong', data: [null] }]);
});

test('error then close: exactly one "failed", no "closed"', async () => {
  const { ws, events } = client();
  ws.serverOpen();
  ws.serverError();
  await flush();
  assert.deepEqual(events, ['open', 'failed']);
});

test('close: exactly one "closed" with the code', async () => {
  const { c, ws, events } = client();
  ws.serverOpen();
  c.close();
  await flush();
  c.close();
  ws.serverError();
  await flush();
  assert.deepEqual(events, ['open', 'closed:1005']);
  assert.equal(c.isOpen, false);
});
