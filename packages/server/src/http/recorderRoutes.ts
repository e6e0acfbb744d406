import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRange } from '../egress/httpRange.js';
import { RECORDS_URL_PREFIX, recordPath, regularFileSize } from '../egress/recordFiles.js';
import type { RecorderManager, StreamRef } from '../egress/RecorderManager.js';
import { egressCall } from './pushRoutes.js';
import { RestError, sendJson, type RestApi } from './RestApi.js';
import type { RequestValidator } from './RequestValidator.js';
import { recorderRefSchema } from './schemas/egressSchemas.js';

/** Answers 401/403 itself and returns false when the request lacks the REST token. */
export type Authorize = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Serves one download; false when `pathname` is not below `/client/records/`. */
export type RecordsDownloadHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean>;

function ref(v: RequestValidator, body: Record<string, unknown>): StreamRef {
  const b = v.check<{ mediaSessionId?: string; streamName?: string }>(recorderRefSchema, body);
  if (!b.mediaSessionId && !b.streamName) throw new RestError(400, 'bad_request', 'Give "mediaSessionId" or "streamName"');
  return { ...(b.mediaSessionId ? { mediaSessionId: b.mediaSessionId } : {}), ...(b.streamName ? { streamName: b.streamName } : {}) };
}

/** `/recorder/startup`, `/recorder/terminate`, `/recorder/find_all` (GET too). */
export function addRecorderRoutes(api: RestApi, v: RequestValidator, recorders: RecorderManager): void {
  api.route('recorder/startup', (body) => egressCall(() => recorders.startup(ref(v, body)).toJSON()));
  api.route('recorder/terminate', (body) => egressCall(async () => (await recorders.terminate(ref(v, body))).toJSON()));
  api.route(
    'recorder/find_all',
    () => {
      const all = recorders.list().map((r) => r.toJSON());
      if (all.length === 0) throw new RestError(404, 'not_found', 'No recording');
      return all;
    },
    true,
  );
}

const TYPES: Record<string, string> = { mp4: 'video/mp4', flv: 'video/x-flv', mkv: 'video/x-matroska', webm: 'video/webm' };

/**
 * `GET|HEAD /client/records/<file>` from the records directory, behind `authorize` (the REST
 * token), with single-range support (206, 416). Names are checked by recordPath(): nothing
 * outside the directory can be read.
 */
export function createRecordsDownload(dir: string, authorize: Authorize): RecordsDownloadHandler {
  return async (req, res, pathname) => {
    if (!pathname.startsWith(RECORDS_URL_PREFIX) && pathname !== RECORDS_URL_PREFIX.slice(0, -1)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', message: 'Records are GET only' });
      return true;
    }
    if (!authorize(req, res)) return true;
    const r = recordPath(dir, pathname.slice(RECORDS_URL_PREFIX.length));
    if (!r.ok) {
      sendJson(res, r.status, { error: r.status === 400 ? 'bad_request' : 'not_found', message: r.message });
      return true;
    }
    const size = await regularFileSize(r.path);
    if (size === undefined) {
      sendJson(res, 404, { error: 'not_found', message: `No record ${r.name}` });
      return true;
    }
    const headers: Record<string, string | number> = {
      'content-type': TYPES[r.name.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
    };
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
      return true;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    headers['content-length'] = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return true;
    }
    createReadStream(r.path, { start, end })
      .on('error', () => res.destroy())
      .pipe(res);
    return true;
  };
}
