/**
 * Test-only server entry until the egress is wired into SipcastServer: the real SipcastServer
 * (from source, via tsx) plus createEgress() on its registry, with the egress REST routes
 * (`/rest-api/push/*`, `/rest-api/recorder/*`, and `/rest-api/stream/*` for convenience) and the
 * record downloads (`/client/records/<file>`) on a second HTTP port.
 *
 *   node --import tsx tests/e2e/support/egressServer.ts
 *
 * Environment: the usual SIPCAST_* settings (including the egress ones: SIPCAST_RECORD_DIR,
 * SIPCAST_RECORD_SIP_STREAMS, SIPCAST_RECORD_TEMPLATE, SIPCAST_FFMPEG_PATH, SIPCAST_PUSH_AUDIO_CODEC)
 * and SIPCAST_E2E_EGRESS_HTTP_PORT (default 0: a free port). Prints one line
 *   sipcast ready ws=ws://127.0.0.1:<ws> http=http://127.0.0.1:<http> egress=http://127.0.0.1:<egress> demoCallee=<uri>
 * SIGTERM/SIGINT: egress.stop() (recordings finalised), then the server, then exit 0.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loadSettings } from '../../../packages/server/src/config/Settings.js';
import { createEgress } from '../../../packages/server/src/egress/createEgress.js';
import { egressSettingsFromEnv } from '../../../packages/server/src/egress/egressSettings.js';
import { RequestValidator } from '../../../packages/server/src/http/RequestValidator.js';
import { RestApi, sendJson } from '../../../packages/server/src/http/RestApi.js';
import { addStreamRoutes } from '../../../packages/server/src/http/streamRoutes.js';
import { SipcastServer } from '../../../packages/server/src/SipcastServer.js';
import { Logger } from '../../../packages/server/src/util/Logger.js';

async function main(): Promise<void> {
  const settings = loadSettings();
  const log = new Logger(settings.logLevel);
  const server = new SipcastServer(settings, log);
  await server.start();
  const egress = createEgress(server.registry, egressSettingsFromEnv(), log.child('egress'));

  const token = settings.restToken;
  const authorize = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!token) return true;
    const header = req.headers.authorization;
    if (!header) {
      sendJson(res, 401, { error: 'unauthorized', message: 'Authorization: Bearer <rest_token> is required' });
      return false;
    }
    const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      sendJson(res, 403, { error: 'forbidden', message: 'Wrong REST token' });
      return false;
    }
    return true;
  };
  const api = new RestApi();
  addStreamRoutes(api, server.registry);
  egress.addRoutes(api, new RequestValidator(), authorize);
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handle = async (): Promise<void> => {
      if (path.startsWith('/rest-api/')) {
        if (authorize(req, res)) await api.handle(req, res, path.slice('/rest-api/'.length).replace(/\/+$/, ''));
        return;
      }
      if (await egress.handleRecordsDownload(req, res, path)) return;
      sendJson(res, 404, { error: 'not_found', message: `No such page: ${path}` });
    };
    handle().catch((err: Error) => {
      log.warn(`egress http ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'Internal server error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(Number(process.env['SIPCAST_E2E_EGRESS_HTTP_PORT'] ?? 0), '127.0.0.1', resolve));
  const addr = http.address();
  const egressPort = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(
    `sipcast ready ws=ws://127.0.0.1:${server.wsPort} http=http://127.0.0.1:${server.httpPort} egress=http://127.0.0.1:${egressPort} demoCallee=${server.demoCalleeUri ?? ''}\n`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    setTimeout(() => process.exit(1), 10_000).unref();
    void (async () => {
      await egress.stop();
      http.closeAllConnections();
      http.close();
      await server.stop();
      process.exit(0);
    })().catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`egressServer: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
