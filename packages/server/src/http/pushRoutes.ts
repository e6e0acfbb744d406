import { EgressError } from '../egress/EgressError.js';
import type { PushManager } from '../egress/PushManager.js';
import { RestError, type RestApi } from './RestApi.js';
import type { RequestValidator } from './RequestValidator.js';
import { pushFindSchema, pushIdSchema, pushStartupSchema } from './schemas/egressSchemas.js';

/** Runs `fn`, turning an EgressError into the RestError the REST layer answers. */
export async function egressCall<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EgressError) throw new RestError(err.status, err.status === 404 ? 'not_found' : err.status === 409 ? 'conflict' : 'bad_request', err.message);
    throw err;
  }
}

interface StartupBody {
  streamName: string;
  rtmpUrl: string;
  rtmpTransponderFullUrl: boolean;
  options?: Record<string, unknown>;
}

/**
 * `/push/startup`, `/push/find`, `/push/find_all` (GET too), `/push/terminate`, `/push/mute`,
 * `/push/unmute` (wire contract §4): validation and mapping only; the PushManager does the work.
 */
export function addPushRoutes(api: RestApi, v: RequestValidator, pushes: PushManager): void {
  api.route('push/startup', (body) =>
    egressCall(() => {
      const b = v.check<StartupBody>(pushStartupSchema, body);
      return pushes.startup({ streamName: b.streamName, rtmpUrl: b.rtmpUrl, fullUrl: b.rtmpTransponderFullUrl, options: b.options ?? {} }).toJSON();
    }),
  );

  const found = (list: { toJSON(): unknown }[]): unknown[] => {
    if (list.length === 0) throw new RestError(404, 'not_found', 'No push matches');
    return list.map((p) => p.toJSON());
  };
  api.route('push/find', (body) => {
    const q = v.check<{ streamName?: string; rtmpUrl?: string }>(pushFindSchema, body);
    return found(pushes.find({ ...(q.streamName ? { streamName: q.streamName } : {}), ...(q.rtmpUrl ? { rtmpUrl: q.rtmpUrl } : {}) }));
  });
  api.route('push/find_all', () => found(pushes.list()), true);

  api.route('push/terminate', (body) =>
    egressCall(async () => (await pushes.terminate(v.check<{ mediaSessionId: string }>(pushIdSchema, body).mediaSessionId)).toJSON()),
  );
  api.route('push/mute', (body) => egressCall(() => pushes.setMuted(v.check<{ mediaSessionId: string }>(pushIdSchema, body).mediaSessionId, true).toJSON()));
  api.route('push/unmute', (body) => egressCall(() => pushes.setMuted(v.check<{ mediaSessionId: string }>(pushIdSchema, body).mediaSessionId, false).toJSON()));
}
