import type { RecorderManager } from '../egress/RecorderManager.js';
import type { LiveStream } from '../registry/LiveStream.js';
import type { StreamRegistry } from '../registry/StreamRegistry.js';
import { RestError, type RestApi, type RestBody } from './RestApi.js';

/** What the Stream object needs from the recorder (`record`, `recordName`). */
export type StreamRecordInfo = Pick<RecorderManager, 'isRecording' | 'recordNameOf'>;

/** The WCS Stream object for a published stream. */
export function streamToJson(s: LiveStream, rec?: StreamRecordInfo): Record<string, unknown> {
  return {
    mediaSessionId: s.mediaSessionId,
    name: s.name,
    published: true,
    hasVideo: !!s.media.video,
    hasAudio: !!s.media.audio,
    status: s.status,
    info: '',
    record: rec?.isRecording(s) ?? false,
    recordName: rec?.recordNameOf(s) ?? null,
    width: s.width,
    height: s.height,
    audioCodec: s.media.audio?.codec ?? '',
    videoCodec: s.media.video?.codec ?? '',
    streamerVideoWidth: s.width,
    streamerVideoHeight: s.height,
    viewers: s.sinkCount,
    createdAt: s.createdAt,
  };
}

function optionalString(body: RestBody, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new RestError(400, 'bad_field', `Field "${field}" must be a string`);
  return v;
}

function optionalBool(body: RestBody, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new RestError(400, 'bad_field', `Field "${field}" must be a boolean`);
}

/** `/stream/find` and `/stream/find_all`. */
export function addStreamRoutes(api: RestApi, registry: StreamRegistry, rec?: StreamRecordInfo): void {
  const toJson = (s: LiveStream): Record<string, unknown> => streamToJson(s, rec);
  const notFound = (): never => {
    throw new RestError(404, 'not_found', 'No stream matches');
  };
  api.route(
    'stream/find_all',
    () => {
      const all = registry.list().map(toJson);
      return all.length ? all : notFound();
    },
    true,
  );
  api.route('stream/find', (body) => {
    const name = optionalString(body, 'name');
    const id = optionalString(body, 'mediaSessionId');
    const published = optionalBool(body, 'published');
    if (name === undefined && id === undefined && published === undefined) {
      throw new RestError(400, 'missing_field', 'Give one of "name", "mediaSessionId", "published"');
    }
    const found = registry
      .list()
      .filter((s) => (name === undefined || s.name === name) && (id === undefined || s.mediaSessionId === id) && (published === undefined || published))
      .map(toJson);
    return found.length ? found : notFound();
  });
}
