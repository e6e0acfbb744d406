import { CallRejectedError, type CallManager } from '../call/CallManager.js';
import { CallStateError } from '../call/Call.js';
import type { CallStartup, CallStatus, DtmfType } from '../call/CallTypes.js';
import { EgressError } from '../egress/EgressError.js';
import type { PushManager } from '../egress/PushManager.js';
import type { StreamRegistry } from '../registry/StreamRegistry.js';
import { RestError, type RestApi } from './RestApi.js';
import type { RequestValidator } from './RequestValidator.js';
import { callFindSchema, callIdSchema, callStartupSchema, sendDtmfSchema, streamTerminateSchema } from './schemas/callSchemas.js';

type StartupBody = Omit<CallStartup, 'sipTransport'> & { sipTransport: string };

const REJECT_STATUS = { conflict: 409, forbidden: 403, limit: 503 } as const;

/** `/call/*` and `/stream/terminate`: validation and mapping only; the CallManager does the work. */
export function addCallRoutes(api: RestApi, v: RequestValidator, calls: CallManager, registry: StreamRegistry, pushes?: PushManager): void {
  api.route('call/startup', (body) => {
    const b = v.check<StartupBody>(callStartupSchema, body);
    if ((b.rtmpUrl === undefined) !== (b.rtmpStream === undefined)) {
      throw new RestError(400, 'bad_request', 'Fields "rtmpUrl" and "rtmpStream" go together');
    }
    // "SIP as RTMP": the call is pushed to rtmpUrl/rtmpStream as soon as its media flows
    const rtmpTarget = b.rtmpUrl && b.rtmpStream ? `${b.rtmpUrl.replace(/\/+$/, '')}/${b.rtmpStream}` : undefined;
    if (rtmpTarget && pushes?.isTargetInUse(rtmpTarget)) throw new RestError(409, 'conflict', `RTMP target ${b.rtmpStream} is already in use`);
    try {
      calls.startup({ ...b, sipTransport: b.sipTransport.toLowerCase() === 'tcp' ? 'tcp' : 'udp' });
    } catch (err) {
      if (err instanceof CallRejectedError) throw new RestError(REJECT_STATUS[err.kind], err.kind, err.message);
      throw err;
    }
    if (rtmpTarget && pushes) {
      try {
        pushes.startForStream(b.toStream, rtmpTarget, { fullUrl: true });
      } catch (err) {
        calls.terminate(b.callId);
        if (err instanceof EgressError) throw new RestError(err.status, err.status === 409 ? 'conflict' : 'bad_request', err.message);
        throw err;
      }
    }
    return undefined;
  });

  const find = (q: { callId?: string; callee?: string; status?: CallStatus }): unknown => {
    const found = calls.find(q);
    if (found.length === 0) throw new RestError(404, 'not_found', 'No call matches');
    return found;
  };
  api.route('call/find', (body) => find(v.check(callFindSchema, body)));
  api.route('call/find_all', () => find({}), true);

  api.route('call/terminate', (body) => {
    const { callId } = v.check<{ callId: string }>(callIdSchema, body);
    if (!calls.terminate(callId)) throw new RestError(404, 'not_found', `No call ${callId}`);
    return undefined;
  });

  api.route('call/send_dtmf', async (body) => {
    const b = v.check<{ callId: string; dtmf: string; type: DtmfType }>(sendDtmfSchema, body);
    try {
      if (!(await calls.sendDtmf(b.callId, b.dtmf.toUpperCase(), b.type))) throw new RestError(404, 'not_found', `No call ${b.callId}`);
    } catch (err) {
      if (err instanceof CallStateError) throw new RestError(409, 'conflict', err.message);
      if (err instanceof RestError) throw err;
      throw new RestError(409, 'conflict', (err as Error).message);
    }
    return undefined;
  });

  api.route('stream/terminate', (body) => {
    const b = v.check<{ mediaSessionId?: string; name?: string }>(streamTerminateSchema, body);
    if (!b.mediaSessionId && !b.name) throw new RestError(400, 'bad_request', 'Give "mediaSessionId" or "name"');
    const stream = b.name ? registry.get(b.name) : registry.getByMediaSessionId(b.mediaSessionId!);
    if (!stream || (b.mediaSessionId && stream.mediaSessionId !== b.mediaSessionId)) throw new RestError(404, 'not_found', 'No stream matches');
    const callId = stream.owner.startsWith('call:') ? stream.owner.slice(5) : undefined;
    stream.end('Stopped by rest /terminate');
    if (callId) calls.terminate(callId);
    return undefined;
  });
}
