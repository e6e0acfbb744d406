import { randomInt } from 'node:crypto';
import type { Clip } from '../media/clip/ClipFormat.js';
import type { SipRequest } from '../sip/message/index.js';
import { buildResponse, toTagOf, TransactionManager, newTag, type ServerTransaction } from '../sip/transaction/index.js';
import { SipTransport, type SipSource } from '../sip/transport/index.js';
import type { Logger } from '../util/Logger.js';
import { buildDemoAnswer, planFromOffer } from './demoAnswer.js';
import { DemoCallMedia } from './DemoCallMedia.js';

export interface DemoCalleeOptions {
  readonly bindAddress: string;
  readonly port: number;
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  /** Calls end by themselves after this long, so a forgotten call does not run for ever. */
  readonly maxCallMs?: number;
  readonly log: Logger;
}

interface DemoCall {
  readonly callId: string;
  readonly toTag: string;
  readonly media: DemoCallMedia;
  readonly answer: string;
  readonly timer: NodeJS.Timeout;
}

const MAX_CALLS = 20;
const PICTURE_FAST_UPDATE = /picture_fast_update/;

/**
 * A SIP endpoint that answers any call (`sip:demo@<address>:<port>`) and sends the demo clip as
 * real RTP: H.264 plus opus, PCMU or PCMA as negotiated. It honours keyframe requests (RTCP
 * PLI/FIR, SIP INFO picture_fast_update) and BYE, so a newcomer can place a call and watch it
 * without any SIP account.
 */
export class DemoCallee {
  readonly #transport: SipTransport;
  readonly #tm: TransactionManager;
  readonly #clip: Clip;
  readonly #opts: DemoCalleeOptions;
  readonly #calls = new Map<string, DemoCall>();
  callsAnswered = 0;

  private constructor(transport: SipTransport, clip: Clip, opts: DemoCalleeOptions) {
    this.#transport = transport;
    this.#clip = clip;
    this.#opts = opts;
    this.#tm = new TransactionManager({ transport, log: opts.log });
    this.#tm.on('request', (req, tx, source) => {
      this.#onRequest(req, tx, source).catch((err: Error) => {
        opts.log.warn(`demo callee: ${req.method} failed: ${err.message}`);
        if (tx) this.#respond(tx, req, 500, 'Server Internal Error');
      });
    });
  }

  static async start(clip: Clip, opts: DemoCalleeOptions): Promise<DemoCallee> {
    const transport = await SipTransport.create({ log: opts.log, bindAddress: opts.bindAddress, port: opts.port, serverName: 'sipcast-demo-callee' });
    return new DemoCallee(transport, clip, opts);
  }

  get port(): number {
    return this.#transport.port;
  }

  get activeCalls(): number {
    return this.#calls.size;
  }

  async stop(): Promise<void> {
    for (const c of this.#calls.values()) this.#end(c);
    this.#tm.close();
    await this.#transport.close();
  }

  async #onRequest(req: SipRequest, tx: ServerTransaction | undefined, _source: SipSource): Promise<void> {
    const callId = req.headers.get('Call-ID') ?? '';
    if (!tx) {
      // The ACK of our 200: the caller has our answer now, so media sent from here on is not lost.
      if (req.method === 'ACK') this.#calls.get(callId)?.media.start();
      return;
    }
    const existing = this.#calls.get(callId);
    switch (req.method) {
      case 'INVITE':
        if (existing) return this.#respond(tx, req, 200, 'OK', existing);
        if (toTagOf(req.headers.get('To')) !== undefined) return this.#respond(tx, req, 481, 'Call/Transaction Does Not Exist');
        return this.#answer(req, tx, callId);
      case 'BYE':
        if (!existing) return this.#respond(tx, req, 481, 'Call/Transaction Does Not Exist');
        this.#respond(tx, req, 200, 'OK');
        return this.#end(existing);
      case 'INFO':
        if (!existing) return this.#respond(tx, req, 481, 'Call/Transaction Does Not Exist');
        if (PICTURE_FAST_UPDATE.test(req.body.toString('utf8'))) existing.media.requestKeyframe();
        return this.#respond(tx, req, 200, 'OK');
      case 'CANCEL': {
        this.#respond(tx, req, 200, 'OK');
        return;
      }
      case 'OPTIONS':
        return this.#respond(tx, req, 200, 'OK');
      default:
        return this.#respond(tx, req, 405, 'Method Not Allowed');
    }
  }

  async #answer(req: SipRequest, tx: ServerTransaction, callId: string): Promise<void> {
    if (this.#calls.size >= MAX_CALLS) return this.#respond(tx, req, 486, 'Busy Here');
    const offer = req.body.toString('utf8');
    let plan;
    try {
      plan = planFromOffer(offer);
    } catch (err) {
      this.#opts.log.info(`demo callee: 488 for ${callId}: ${(err as Error).message}`);
      return this.#respond(tx, req, 488, 'Not Acceptable Here');
    }
    const media = await DemoCallMedia.open(this.#clip, plan, this.#opts.bindAddress, this.#opts.rtpPortMin, this.#opts.rtpPortMax);
    const toTag = newTag();
    const answer = buildDemoAnswer(offer, plan, this.#transport.sentByHost, media.ports, randomInt(1, 2 ** 31));
    const timer = setTimeout(() => this.#hangup(callId), this.#opts.maxCallMs ?? 3_600_000);
    timer.unref();
    const call: DemoCall = { callId, toTag, media, answer, timer };
    this.#calls.set(callId, call);
    tx.respond(buildResponse(req, 180, 'Ringing', { toTag, copyRecordRoute: true, headers: [['Contact', this.#contact()]] }));
    this.#respond(tx, req, 200, 'OK', call);
    // Media starts on the ACK; a lost ACK must not leave the call silent.
    setTimeout(() => media.start(), 1000).unref();
    this.callsAnswered++;
    this.#opts.log.info(`demo callee: answered ${callId} (${plan.audio?.codec ?? 'no audio'}${plan.video ? ' + H264' : ''})`);
  }

  #respond(tx: ServerTransaction, req: SipRequest, status: number, reason: string, call?: DemoCall): void {
    const withSdp = call !== undefined && req.method === 'INVITE' && status === 200;
    tx.respond(
      buildResponse(req, status, reason, {
        ...(call ? { toTag: call.toTag } : {}),
        copyRecordRoute: req.method === 'INVITE',
        headers: [
          ['Contact', this.#contact()],
          ['Allow', 'INVITE, ACK, BYE, CANCEL, INFO, OPTIONS'],
        ],
        ...(withSdp ? { body: call.answer, contentType: 'application/sdp' } : {}),
      }),
    );
  }

  /** Demo calls end by time limit with a plain stop of the media (no BYE: a demo needs no dialog state). */
  #hangup(callId: string): void {
    const call = this.#calls.get(callId);
    if (call) this.#end(call);
  }

  #end(call: DemoCall): void {
    clearTimeout(call.timer);
    call.media.close();
    this.#calls.delete(call.callId);
  }

  #contact(): string {
    return `<sip:demo@${this.#transport.sentByHost}:${this.#transport.port}>`;
  }
}
