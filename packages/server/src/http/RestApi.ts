import type { IncomingMessage, ServerResponse } from 'node:http';

/** A REST error answered as `{error, message}` with an HTTP status. */
export class RestError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, message: string) {
    super(message);
    this.status = status;
    this.error = error;
  }
}

export type RestBody = Record<string, unknown>;
/** A handler returns the JSON to send with 200, or undefined for an empty 200. */
export type RestHandler = (body: RestBody) => unknown | Promise<unknown>;

const MAX_BODY_BYTES = 64 * 1024;

/** `POST /rest-api/<method>` dispatch with JSON bodies and JSON errors (wire contract §4). */
export class RestApi {
  readonly #routes = new Map<string, { handler: RestHandler; allowGet: boolean }>();

  /** Registers `/rest-api/<method>`; `allowGet` lets find_all be read with GET and no body. */
  route(method: string, handler: RestHandler, allowGet = false): this {
    this.#routes.set(method, { handler, allowGet });
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    try {
      const route = this.#routes.get(method);
      if (!route) throw new RestError(404, 'not_found', `Unknown REST method /${method}`);
      if (req.method !== 'POST' && !(route.allowGet && req.method === 'GET')) {
        throw new RestError(405, 'method_not_allowed', `Use POST for /${method}`);
      }
      const body = req.method === 'POST' ? await readJson(req) : {};
      const result = await route.handler(body);
      if (result === undefined) {
        res.writeHead(200, { 'content-length': 0 }).end();
        return;
      }
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof RestError) sendJson(res, err.status, { error: err.error, message: err.message });
      else sendJson(res, 500, { error: 'internal', message: 'Internal server error' });
    }
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req: IncomingMessage): Promise<RestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RestError(413, 'too_large', `Body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RestError(400, 'bad_json', 'Body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RestError(400, 'bad_body', 'Body must be a JSON object');
  }
  return value as RestBody;
}
