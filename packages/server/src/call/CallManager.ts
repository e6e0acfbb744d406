import type { StreamRegistry } from '../registry/StreamRegistry.js';
import type { Logger } from '../util/Logger.js';
import { Call } from './Call.js';
import type { MediaLegFactory, SipAgent } from './CallPorts.js';
import type { CallSettings } from './CallSettings.js';
import type { CallJson, CallStartup, CallStatus, DtmfType } from './CallTypes.js';

/** Why a call cannot start; `kind` maps to the REST status (conflict 409, forbidden 403, limit 503). */
export class CallRejectedError extends Error {
  override readonly name = 'CallRejectedError';
  readonly kind: 'conflict' | 'forbidden' | 'limit';
  readonly field: string;
  constructor(kind: 'conflict' | 'forbidden' | 'limit', field: string, message: string) {
    super(message);
    this.kind = kind;
    this.field = field;
  }
}

export interface CallQuery {
  callId?: string | undefined;
  callee?: string | undefined;
  status?: CallStatus | undefined;
}

/**
 * A call that failed (BUSY, FAILED) stays visible to /call/find this long, so a client polling
 * every few seconds can read why (`status`, `sipStatus`, `info`); a normally finished call is gone
 * at once (404, which pages show as FINISHED).
 */
export const FAILED_CALL_LINGER_MS = 10_000;

/** The table of live calls: starts them, finds them, ends them. Knows no HTTP. */
export class CallManager {
  readonly #calls = new Map<string, Call>();
  /** Calls that ended in BUSY or FAILED, kept for FAILED_CALL_LINGER_MS. */
  readonly #failed = new Map<string, Call>();
  readonly #registry: StreamRegistry;
  readonly #deps: { agent: SipAgent; media: MediaLegFactory };
  readonly #settings: CallSettings;
  readonly #log: Logger;
  callsStarted = 0;

  constructor(
    registry: StreamRegistry,
    deps: { agent: SipAgent; media: MediaLegFactory },
    settings: CallSettings,
    log: Logger,
  ) {
    this.#registry = registry;
    this.#deps = deps;
    this.#settings = settings;
    this.#log = log;
  }

  /**
   * Reserves the stream name and starts the call in the background; returns before the callee
   * answers. Throws CallRejectedError for a duplicate callId or stream name, a callee outside
   * the allow-list, or too many calls.
   */
  startup(req: CallStartup): Call {
    if (this.#calls.has(req.callId)) throw new CallRejectedError('conflict', 'callId', `Call ${req.callId} already exists`);
    if (this.#registry.get(req.toStream)) throw new CallRejectedError('conflict', 'toStream', `Stream name ${req.toStream} is already in use`);
    const allow = this.#settings.calleeAllowPattern;
    if (allow && !allow.test(req.callee)) throw new CallRejectedError('forbidden', 'callee', 'Callee is not allowed by the server policy');
    if (this.#calls.size >= this.#settings.maxCalls) {
      throw new CallRejectedError('limit', 'callId', `Too many calls (limit ${this.#settings.maxCalls})`);
    }
    this.#failed.delete(req.callId);
    const stream = this.#registry.create(req.toStream, `call:${req.callId}`);
    const call = new Call(req, stream, { ...this.#deps, settings: this.#settings, log: this.#log });
    this.#calls.set(req.callId, call);
    this.callsStarted++;
    call.on('status', (s) => this.#log.info(`call ${req.callId}: ${s}`));
    call.once('ended', () => {
      if (this.#calls.get(req.callId) === call) this.#calls.delete(req.callId);
      if (call.status === 'BUSY' || call.status === 'FAILED') {
        this.#failed.set(req.callId, call);
        setTimeout(() => {
          if (this.#failed.get(req.callId) === call) this.#failed.delete(req.callId);
        }, FAILED_CALL_LINGER_MS).unref();
      }
    });
    void call.start();
    return call;
  }

  get(callId: string): Call | undefined {
    return this.#calls.get(callId);
  }

  find(q: CallQuery): CallJson[] {
    const out: CallJson[] = [];
    for (const call of [...this.#calls.values(), ...this.#failed.values()]) {
      if (q.callId !== undefined && call.req.callId !== q.callId) continue;
      if (q.callee !== undefined && call.req.callee !== q.callee) continue;
      if (q.status !== undefined && call.status !== q.status) continue;
      out.push(call.toJson());
    }
    return out;
  }

  /** Hangs up; false when there is no such call. */
  terminate(callId: string): boolean {
    const call = this.#calls.get(callId);
    if (!call) return false;
    call.terminate();
    return true;
  }

  async sendDtmf(callId: string, dtmf: string, type: DtmfType): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (!call) return false;
    await call.sendDtmf(dtmf, type);
    return true;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Hangs up every call (server shutdown). */
  terminateAll(): void {
    for (const call of this.#calls.values()) call.terminate();
  }
}
