import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.mp4': 'video/mp4',
};

/** Serves files below `root` for URL paths below `prefix`; nothing outside `root` is reachable. */
export class StaticFiles {
  readonly prefix: string;
  readonly #root: string;

  constructor(prefix: string, root: string) {
    this.prefix = prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.#root = normalize(root);
  }

  matches(pathname: string): boolean {
    return pathname.startsWith(this.prefix) || pathname === this.prefix.slice(0, -1);
  }

  /** Returns false when the file does not exist (caller answers 404). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname === this.prefix.slice(0, -1)) {
      res.writeHead(301, { location: this.prefix }).end();
      return true;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(pathname.slice(this.prefix.length));
    } catch {
      return false;
    }
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    if (rel.includes('\0')) return false;
    const file = normalize(join(this.#root, rel));
    if (file !== this.#root && !file.startsWith(this.#root + sep)) return false;
    const st = await stat(file).catch(() => undefined);
    if (st?.isDirectory() && !pathname.endsWith('/')) {
      res.writeHead(301, { location: `${pathname}/` }).end();
      return true;
    }
    if (!st?.isFile()) return false;
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
    return true;
  }
}
