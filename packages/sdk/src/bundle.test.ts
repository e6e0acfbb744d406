// Checks the built files (run `npm run build:sdk` first; skipped when dist/ is absent).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { FakeMediaStream, FakeRTCPeerConnection, FakeWebSocket, installFakes } from './testing/fakes';

const dist = (file: string): string => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
const built = existsSync(dist('flashphoner.umd.min.js')) && existsSync(dist('sipcast.cjs'));

for (const file of ['flashphoner.umd.js', 'flashphoner.umd.min.js']) {
  test(`${file} defines the global Flashphoner object, self-contained`, { skip: !built && 'dist/ not built' }, () => {
    const { document } = installFakes();
    const sandbox: Record<string, unknown> = {
      WebSocket: FakeWebSocket,
      RTCPeerConnection: FakeRTCPeerConnection,
      MediaStream: FakeMediaStream,
      document,
      navigator: { userAgent: 'UA', appVersion: 'AV' },
      console,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      crypto: globalThis.crypto,
    };
    vm.runInNewContext(readFileSync(dist(file), 'utf8'), sandbox, { filename: file });
    const F = sandbox['Flashphoner'] as Record<string, unknown> & {
      init(o: unknown): void;
      createSession(o: unknown): { status(): string };
      constants: { SESSION_STATUS: Record<string, string> };
    };
    assert.equal(typeof F, 'object');
    assert.equal(F['default'], undefined, 'the global is the API object itself');
    assert.throws(() => F.createSession({ urlServer: 'ws://h' }), { message: 'Flashphoner API is not initialized' });
    F.init({ logger: null });
    const session = F.createSession({ urlServer: 'ws://h:8080' });
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverSend('getUserData', {});
    assert.equal(session.status(), F.constants.SESSION_STATUS['ESTABLISHED']);
  });
}

test('the minified UMD stays within 15 kB gzipped', { skip: !built && 'dist/ not built' }, () => {
  const size = gzipSync(readFileSync(dist('flashphoner.umd.min.js')), { level: 9 }).length;
  assert.ok(size <= 15360, `${size} bytes`);
});

test('the CJS build has named exports and the default object', { skip: !built && 'dist/ not built' }, () => {
  const cjs = createRequire(import.meta.url)(dist('sipcast.cjs')) as Record<string, unknown> & {
    default: Record<string, unknown>;
  };
  assert.equal(typeof cjs['createSession'], 'function');
  assert.equal(cjs.default['createSession'], cjs['createSession']);
  assert.equal((cjs['STREAM_STATUS'] as Record<string, string>)['PLAYING'], 'PLAYING');
});
