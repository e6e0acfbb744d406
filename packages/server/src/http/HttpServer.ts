import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../util/Logger.js';
import { RestApi, sendJson } from './RestApi.js';
import { StaticFiles } from './StaticFiles.js';

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** Static mounts, e.g. `/player/` -> examples/player. */
  readonly mounts: readonly StaticFiles[];
  /** Builds /sipcast-config.js for the served pages (the WebSocket URL as the browser sees it). */
  readonly pageConfig: (req: IncomingMessage) => Record<string, unknown>;
  /** Where `/` redirects. */
  readonly indexPath: string;
  /** When set, every REST call must carry `Authorization: Bearer <token>`. */
  readonly restToken: string;
  /** Origins allowed to call the REST API cross-origin (`*` for any). */
  readonly corsOrigins: readonly string[];
  /** GET/HEAD handlers tried before the static mounts; each resolves true when it answered. */
  readonly handlers?: readonly ((req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean>)[];
}

/** REST API under /rest-api and the example pages with the built SDK. */
export class HttpServer {
  readonly api = new RestApi();
  readonly #server: Server;
  readonly #opts: HttpServerOptions;
  readonly #log: Logger;

  constructor(opts: HttpServerOptions, log: Logger) {
    this.#opts = opts;
    this.#log = log;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => {
        this.#log.warn(`http ${req.method} ${req.url}: ${err.message}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'Internal server error' });
        else res.destroy();
      });
    });
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    const addr = this.#server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Same-origin pages always pass; other origins only from the allow-list. False = answered. */
  #cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const sameOrigin = origin !== undefined && origin === `http://${req.headers.host ?? ''}`;
    const allowed = origin === undefined || sameOrigin || this.#opts.corsOrigins.includes('*') || this.#opts.corsOrigins.includes(origin);
    if (origin !== undefined && allowed && !sameOrigin) {
      res.setHeader('access-control-allow-origin', this.#opts.corsOrigins.includes('*') ? '*' : origin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      if (!allowed) {
        sendJson(res, 403, { error: 'cors', message: `Origin ${origin} is not allowed` });
        return false;
      }
      res.writeHead(204, {
        'access-control-allow-methods': 'POST, GET, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-max-age': '600',
      });
      res.end();
      return false;
    }
    if (!allowed) {
      sendJson(res, 403, { error: 'cors', message: `Origin ${origin} is not allowed` });
      return false;
    }
    return true;
  }

  /** The REST token check (answers 401/403 itself and returns false). */
  authorize(req: IncomingMessage, res: ServerResponse): boolean {
    return this.#authorized(req, res);
  }

  #authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const token = this.#opts.restToken;
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
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path.startsWith('/rest-api/')) {
      if (!this.#cors(req, res)) return;
      if (!this.#authorized(req, res)) return;
      return this.api.handle(req, res, path.slice('/rest-api/'.length).replace(/\/+$/, ''));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', message: 'Static files are GET only' });
      return;
    }
    if (path === '/') {
      res.writeHead(302, { location: this.#opts.indexPath }).end();
      return;
    }
    if (path === '/sipcast-config.js') {
      const body = `window.SIPCAST_CONFIG = ${JSON.stringify(this.#opts.pageConfig(req))};\n`;
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(body);
      return;
    }
    for (const h of this.#opts.handlers ?? []) if (await h(req, res, path)) return;
    for (const mount of this.#opts.mounts) {
      if (mount.matches(path) && (await mount.serve(req, res, path))) return;
    }
    sendJson(res, 404, { error: 'not_found', message: `No such page: ${path}` });
  }
}
