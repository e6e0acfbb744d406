import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Logger } from '../util/Logger.js';
import { HttpServer } from './HttpServer.js';

let open: HttpServer;
let locked: HttpServer;

before(async () => {
  const base = { host: '127.0.0.1', port: 0, mounts: [], pageConfig: () => ({}), indexPath: '/player/' };
  open = new HttpServer({ ...base, restToken: '', corsOrigins: [] }, new Logger('silent'));
  locked = new HttpServer({ ...base, restToken: 's3cret', corsOrigins: ['https://app.example'] }, new Logger('silent'));
  for (const h of [open, locked]) {
    h.api.route('ping', () => ({ pong: true }));
    await h.listen();
  }
});
after(async () => {
  await open.close();
  await locked.close();
});

const post = (h: HttpServer, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${h.port}/rest-api/ping`, { method: 'POST', headers, body: '{}' });

test('a REST token is required when configured: 401 without, 403 wrong, 200 right', async () => {
  assert.equal((await post(open)).status, 200);
  const none = await post(locked);
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { error: string }).error, 'unauthorized');
  assert.equal((await post(locked, { authorization: 'Bearer nope' })).status, 403);
  assert.equal((await post(locked, { authorization: 'Bearer s3cret' })).status, 200);
});

test('CORS is an allow-list; same-origin pages always pass', async () => {
  const auth = { authorization: 'Bearer s3cret' };
  const other = await post(locked, { ...auth, origin: 'https://evil.example' });
  assert.equal(other.status, 403);
  const allowed = await post(locked, { ...auth, origin: 'https://app.example' });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
  const same = await post(locked, { ...auth, origin: `http://127.0.0.1:${locked.port}` });
  assert.equal(same.status, 200);
  const pre = await fetch(`http://127.0.0.1:${locked.port}/rest-api/ping`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
  assert.equal(pre.status, 204);
  const preBad = await fetch(`http://127.0.0.1:${locked.port}/rest-api/ping`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
  assert.equal(preBad.status, 403);
  assert.equal((await post(open, { origin: 'https://evil.example' })).status, 403, 'no CORS unless configured');
});

test('unknown methods 404, wrong verbs 405, bodies that are not objects 400', async () => {
  const r = await fetch(`http://127.0.0.1:${open.port}/rest-api/nope`, { method: 'POST' });
  assert.equal(r.status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${open.port}/rest-api/ping`)).status, 405);
  const arr = await fetch(`http://127.0.0.1:${open.port}/rest-api/ping`, { method: 'POST', body: '[1]' });
  assert.equal(arr.status, 400);
  const big = await fetch(`http://127.0.0.1:${open.port}/rest-api/ping`, { method: 'POST', body: `{"a":"${'x'.repeat(70000)}"}` });
  assert.equal(big.status, 413);
});
