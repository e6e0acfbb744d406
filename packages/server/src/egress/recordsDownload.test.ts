import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRecordsDownload } from '../http/recorderRoutes.js';
import { sendJson } from '../http/RestApi.js';
import { recordPath } from './recordFiles.js';

const root = mkdtempSync(join(tmpdir(), 'sipcast-records-test-'));
const dir = join(root, 'records');
mkdirSync(dir);
const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
writeFileSync(join(dir, 'call-1-1700000000000.mp4'), body);
writeFileSync(join(root, 'secret.txt'), 'secret');
symlinkSync(join(root, 'secret.txt'), join(dir, 'link.mp4'));
mkdirSync(join(dir, 'sub.mp4'));

let server: Server;
let base: string;
before(async () => {
  const handler = createRecordsDownload(dir, (req, res) => {
    if (req.headers.authorization === 'Bearer t') return true;
    sendJson(res, 401, { error: 'unauthorized', message: 'token' });
    return false;
  });
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    void handler(req, res, path).then((handled) => {
      if (!handled) res.writeHead(418).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
after(() => server.close());

/** A raw request (fetch would normalise `../` in the path). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: { authorization: 'Bearer t', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const FILE = '/client/records/call-1-1700000000000.mp4';

test('whole file, HEAD, content type', async () => {
  const r = await get(FILE);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'video/mp4');
  assert.equal(r.headers['accept-ranges'], 'bytes');
  assert.deepEqual(r.body, body);
  const h = await get(FILE, {}, 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '1000');
  assert.equal(h.body.length, 0);
  assert.equal((await get(FILE, {}, 'DELETE')).status, 405);
});

test('ranges: 206 with Content-Range, suffix, open end; 416 beyond the end', async () => {
  const r = await get(FILE, { range: 'bytes=10-19' });
  assert.equal(r.status, 206);
  assert.equal(r.headers['content-range'], 'bytes 10-19/1000');
  assert.deepEqual(r.body, body.subarray(10, 20));
  const s = await get(FILE, { range: 'bytes=-5' });
  assert.equal(s.headers['content-range'], 'bytes 995-999/1000');
  assert.deepEqual(s.body, body.subarray(995));
  const o = await get(FILE, { range: 'bytes=990-' });
  assert.equal(o.body.length, 10);
  const u = await get(FILE, { range: 'bytes=1000-' });
  assert.equal(u.status, 416);
  assert.equal(u.headers['content-range'], 'bytes */1000');
});

test('the REST token is required', async () => {
  assert.equal((await get(FILE, { authorization: '' })).status, 401);
});

test('nothing outside the records directory: ../, encoded variants, absolute paths, NUL, hidden, symlinks, dirs', async () => {
  const bad = [
    '/client/records/..%2fsecret.txt',
    '/client/records/%2e%2e%2fsecret.txt',
    '/client/records/..%5csecret.txt',
    '/client/records/%2fetc%2fpasswd',
    '/client/records/%2Fetc%2Fpasswd',
    '/client/records/a%00.mp4',
    '/client/records/.hidden',
    '/client/records/%2e%2e',
    '/client/records/%252e%252e%252fsecret.txt',
    '/client/records/%E0%A4%A',
    '/client/records/',
  ];
  for (const p of bad) {
    const r = await get(p);
    // 418: the URL parser already resolved the path out of /client/records/ (e.g. %2e%2e is ..)
    assert.ok(r.status === 400 || r.status === 404 || r.status === 418, `${p} -> ${r.status}`);
    assert.ok(!r.body.includes('secret'), p);
  }
  // a literal ../ in the raw request line: the URL parser resolves it away from /client/records/
  const raw = await get('/client/records/../../secret.txt');
  assert.equal(raw.status, 418, 'not a records path any more');
  assert.equal((await get('/client/records/link.mp4')).status, 404, 'symbolic link');
  assert.equal((await get('/client/records/sub.mp4')).status, 404, 'directory');
  assert.equal((await get('/client/records/missing.mp4')).status, 404);
  assert.equal((await get('/other/file')).status, 418, 'other paths are not handled');
});

test('recordPath only accepts one safe component', () => {
  assert.equal(recordPath('/r', 'a.mp4').ok, true);
  for (const n of ['..', '.', '', 'a/b', '/etc/passwd', 'a%2Fb', '%00', 'é.mp4', 'x'.repeat(300)]) assert.equal(recordPath('/r', n).ok, false, n);
});
