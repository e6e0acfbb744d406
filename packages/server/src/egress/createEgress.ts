/**
 * The egress part of the server: RTMP pushes, recordings, their REST routes and the record
 * downloads, built from the registry and the egress settings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addPushRoutes } from '../http/pushRoutes.js';
import { addRecorderRoutes, createRecordsDownload, type Authorize, type RecordsDownloadHandler } from '../http/recorderRoutes.js';
import type { RequestValidator } from '../http/RequestValidator.js';
import { sendJson, type RestApi } from '../http/RestApi.js';
import type { StreamRegistry } from '../registry/StreamRegistry.js';
import type { Logger } from '../util/Logger.js';
import type { EgressSettings } from './egressSettings.js';
import { PushManager } from './PushManager.js';
import { RecorderManager } from './RecorderManager.js';

export interface Egress {
  readonly pushes: PushManager;
  readonly recorders: RecorderManager;
  /** Registers `/push/*` and `/recorder/*`; `authorize` guards the record downloads. */
  addRoutes(api: RestApi, validator: RequestValidator, authorize: Authorize): void;
  /**
   * Serves `GET /client/records/<file>`; resolves false for other paths (the caller goes on).
   * Until addRoutes() supplied `authorize`, downloads answer 503.
   */
  handleRecordsDownload(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
  /** Stops every push and finalises every recording (graceful shutdown). */
  stop(): Promise<void>;
}

/** Builds the push and recorder managers; recording of SIP streams starts with the first `created`. */
export function createEgress(registry: StreamRegistry, settings: EgressSettings, log: Logger): Egress {
  const pushes = new PushManager(registry, { ffmpegPath: settings.ffmpegPath, audioCodec: settings.pushAudioCodec, log: log.child('push') });
  const recorders = new RecorderManager(registry, {
    ffmpegPath: settings.ffmpegPath,
    dir: settings.recordDir,
    template: settings.recordTemplate,
    recordSipStreams: settings.recordSipStreams,
    log: log.child('record'),
  });
  let download: RecordsDownloadHandler | undefined;
  const notWired = createRecordsDownload(settings.recordDir, (_req, res) => {
    sendJson(res, 503, { error: 'unavailable', message: 'Record downloads are not enabled' });
    return false;
  });
  return {
    pushes,
    recorders,
    addRoutes(api, validator, authorize) {
      addPushRoutes(api, validator, pushes);
      addRecorderRoutes(api, validator, recorders);
      download = createRecordsDownload(settings.recordDir, authorize);
    },
    handleRecordsDownload(req, res, pathname) {
      return (download ?? notWired)(req, res, pathname);
    },
    async stop() {
      await Promise.all([pushes.stop(), recorders.stop()]);
    },
  };
}
