/**
 * One outgoing call (UAC INVITE, RFC 3261 §13.2) and the dialog it creates: digest retries,
 * provisional and final responses, ACK for 2xx (re-sent for every 2xx retransmission), CANCEL
 * and BYE, and the requests the callee sends inside the dialog (BYE, INFO, OPTIONS, re-INVITE).
 */
import {
  DigestClient,
  formatNameAddr,
  formatSipUri,
  isValidCallId,
  parseSipUri,
  SipFormatError,
  type SipHeader,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import type { ClockTimer } from '../transaction/Clock.js';
import { buildResponse } from '../transaction/buildResponse.js';
import { InviteClientTransaction } from '../transaction/InviteClientTransaction.js';
import { InviteServerTransaction } from '../transaction/InviteServerTransaction.js';
import { newCallId, newTag } from '../transaction/random.js';
import type { ServerTransaction } from '../transaction/TransactionManager.js';
import type { SipEndpoint, SipHostTarget } from '../transport/types.js';
import { contactUriOf, cseqOf, Dialog, toTagOf } from './Dialog.js';
import { ALLOW, buildRequest, RESERVED_HEADERS, sdpBody } from './requestBuilder.js';
import { answerChallenge, finalResponse, requestWithAuth } from './requestWithAuth.js';
import { firstHopOf, parseHostPort, type SipAccountConfig } from './SipAccountConfig.js';
import { SipRequestError } from './SipRequestError.js';
import type { DialogUser, UaCore } from './UaCore.js';
import { hopOf } from './uriHop.js';

/** Options of {@link SipUserAgent.invite}. */
export interface SipInviteOptions {
  account: SipAccountConfig;
  /** User part (`bob`, becomes `sip:bob@<domain>`) or a full `sip:` URI. */
  target: string;
  /** SDP offer. */
  sdp: string;
  /** Call-ID to use (default: random). */
  callId?: string;
  /** Send every request of the call to the outbound proxy (or domain), ignoring Record-Route. */
  singleRouteOnly?: boolean;
  /** Extra header fields for the INVITE (fields the UA writes itself are ignored). */
  headers?: Record<string, string>;
}

/** Events of a {@link SipClientCall}. */
export type SipClientCallEvents = {
  /** 1xx (100, 180, 183 with SDP = early media). */
  provisional: [status: number, reason: string, sdp: string | undefined];
  /** 2xx (ACK sent by the dialog; 2xx retransmissions re-ACKed). */
  accepted: [sdp: string];
  /** Final non-2xx after auth retries, timeout (408), transport error (503). */
  rejected: [err: SipRequestError];
  /** After BYE either way (or CANCEL completed). */
  terminated: [by: 'local' | 'remote', reason: string];
  /** INFO from the peer (answered 200). */
  info: [contentType: string, body: string];
  /** Peer re-INVITE: answer with our SDP, or null -> 488. */
  reinvite: [sdp: string, respond: (answerSdp: string | null) => void];
};

/** Public state of a call. */
export type SipCallState = 'calling' | 'early' | 'confirmed' | 'terminated';

/** How long a peer re-INVITE may wait for the application's answer before we send 488. */
const REINVITE_ANSWER_TIMEOUT_MS = 10_000;

/** The ACK for our 2xx, kept to answer 2xx retransmissions. */
interface SentAck {
  readonly remoteTag: string;
  readonly request: SipRequest;
  readonly dest: Promise<SipEndpoint>;
}

/** An outgoing call. Created by {@link SipUserAgent.invite}; starts by itself. */
export class SipClientCall extends TypedEmitter<SipClientCallEvents> {
  readonly callId: string;
  readonly #core: UaCore;
  readonly #account: SipAccountConfig;
  readonly #sdp: string;
  readonly #singleRoute: boolean;
  readonly #extraHeaders: SipHeader[] = [];
  readonly #localTag = newTag();
  readonly #digest: DigestClient | undefined;
  #targetUri = '';
  #from = '';
  #to = '';
  #firstHop: SipHostTarget | undefined;
  #dest: SipEndpoint | undefined;
  #state: SipCallState = 'calling';
  #cseq = 0;
  #invite: SipRequest | undefined;
  #ict: InviteClientTransaction | undefined;
  #dialog: Dialog | undefined;
  #acks: SentAck[] = [];
  #gotProvisional = false;
  #hangupRequested = false;
  #cancelSent = false;
  #byeSent = false;
  #cancelGuard: ClockTimer | undefined;
  #reinvite: InviteServerTransaction | undefined;
  #reinviteGuard: ClockTimer | undefined;
  #ended = false;
  #removal: ClockTimer | undefined;
  /** How the UA core reaches this call; kept off the public surface. */
  readonly #user: DialogUser;

  constructor(core: UaCore, o: SipInviteOptions) {
    super();
    this.#core = core;
    this.#account = o.account;
    this.#sdp = o.sdp;
    this.#singleRoute = o.singleRouteOnly === true;
    this.callId = o.callId ?? newCallId();
    const password = o.account.password;
    this.#digest = password === undefined ? undefined : new DigestClient({ username: o.account.authName ?? o.account.login, password });
    let setupError: SipRequestError | undefined;
    // Reusing a live Call-ID would mix two calls' in-dialog requests.
    const duplicate = core.hasCallId(this.callId);
    try {
      if (duplicate) throw new SipRequestError(400, 'Bad Request', 'Call-ID already in use');
      if (!isValidCallId(this.callId)) throw new SipRequestError(400, 'Bad Request', 'invalid Call-ID');
      this.#targetUri = this.#targetToUri(o.target);
      this.#from = core.fromValue(o.account, this.#localTag);
      this.#to = formatNameAddr({ uri: this.#targetUri, params: [] });
      this.#firstHop = firstHopOf(o.account);
      for (const [name, value] of Object.entries(o.headers ?? {})) {
        if (RESERVED_HEADERS.has(name.toLowerCase())) {
          core.log.warn(`ignoring header ${name} for call ${this.callId}: written by the user agent`);
          continue;
        }
        this.#extraHeaders.push({ name, value });
      }
      // Validate everything the INVITE will carry now, so bad input fails the call cleanly.
      this.#buildInvite([]);
      this.#cseq = 0;
    } catch (e) {
      setupError = e instanceof SipRequestError ? e : new SipRequestError(400, 'Bad Request', e instanceof Error ? e.message : String(e));
    }
    this.#user = {
      callId: this.callId,
      handleRequest: (req, tx) => this.#handleRequest(req, tx),
      handleStrayResponse: (res) => this.#handleStrayResponse(res),
      shutdown: (reason) => this.#shutdown(reason),
    };
    if (!duplicate) core.addDialogUser(this.#user);
    // Events only after the caller had a chance to subscribe.
    setImmediate(() => {
      if (setupError) this.#reject(setupError);
      else void this.#start();
    });
  }

  /** Public state. */
  get state(): SipCallState {
    return this.#state;
  }

  /**
   * Ends the call: CANCEL before a final response (sent once a provisional response arrived,
   * RFC 3261 §9.1), BYE after a 2xx. Idempotent.
   */
  hangup(): void {
    if (this.#ended || this.#hangupRequested) return;
    this.#hangupRequested = true;
    if (this.#state === 'confirmed') {
      this.#sendBye('hangup');
      return;
    }
    if (this.#ict === undefined) return; // #start sees the flag
    if (this.#gotProvisional) this.#sendCancel();
  }

  /** Sends INFO in the dialog; resolves with the final status (408 timeout, 503 transport error). */
  async sendInfo(contentType: string, body: string): Promise<number> {
    const dialog = this.#dialog;
    if (this.#state !== 'confirmed' || dialog === undefined || this.#byeSent) {
      throw new SipRequestError(481, 'Call/Transaction Does Not Exist', 'no confirmed dialog');
    }
    let status: number;
    try {
      const res = await this.#inDialogRequest('INFO', { contentType, body });
      status = res.status;
    } catch (e) {
      if (!(e instanceof SipRequestError)) throw e;
      status = e.status;
    }
    // §12.2.1.2: a 481 or 408 to a request inside the dialog ends it.
    if (status === 481 && !this.#ended) this.#end('remote', 'INFO answered 481');
    else if (status === 408 && !this.#ended) this.#sendBye('INFO timed out');
    return status;
  }

  /** {@link DialogUser}: requests with our Call-ID. */
  #handleRequest(req: SipRequest, tx: ServerTransaction | undefined): boolean {
    const dialog = this.#dialog;
    if (dialog === undefined || !dialog.matches(req)) return false;
    if (req.method === 'ACK') {
      // The ACK of our 2xx to a re-INVITE has a branch of its own, so it arrives here.
      if (this.#reinvite && cseqOf(req) === cseqOf(this.#reinvite.request)) this.#reinvite.receiveAck();
      return true;
    }
    if (!tx) return true;
    const seq = cseqOf(req);
    if (seq !== undefined && dialog.remoteSeq !== undefined && seq <= dialog.remoteSeq) {
      this.#core.respond(tx, 500, 'Server Internal Error', [['Reason', 'SIP;cause=500;text="CSeq out of order"']]);
      return true;
    }
    if (seq !== undefined) dialog.remoteSeq = seq;
    switch (req.method) {
      case 'BYE':
        if (this.#state !== 'confirmed') {
          // Only the caller may end an early dialog with BYE (§15).
          this.#core.respond(tx, 481, 'Call/Transaction Does Not Exist');
          return true;
        }
        this.#core.respond(tx, 200, 'OK');
        this.#end('remote', 'BYE');
        return true;
      case 'INFO':
        this.#core.respond(tx, 200, 'OK');
        this.emit('info', (req.headers.get('Content-Type') ?? '').trim(), req.body.toString('utf8'));
        return true;
      case 'OPTIONS':
        this.#core.respond(tx, 200, 'OK', [['Allow', ALLOW], ['Accept', 'application/sdp']]);
        return true;
      case 'INVITE':
        if (tx instanceof InviteServerTransaction) this.#onReinvite(req, tx, dialog);
        return true;
      default:
        if (['PRACK', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH', 'REGISTER'].includes(req.method)) {
          this.#core.respond(tx, 405, 'Method Not Allowed', [['Allow', ALLOW]]);
        } else {
          this.#core.respond(tx, 501, 'Not Implemented', [['Allow', ALLOW]]);
        }
        return true;
    }
  }

  /** {@link DialogUser}: a 2xx retransmission after the INVITE transaction is gone. */
  #handleStrayResponse(res: SipResponse): void {
    if (res.status >= 200 && res.status < 300 && this.#invite && cseqOf(res) === cseqOf(this.#invite)) this.#on2xx(res);
  }

  /** {@link DialogUser}: the user agent closes. */
  #shutdown(reason: string): void {
    this.#ict?.terminate();
    if (!this.#ended) this.#end('local', reason);
    if (this.#removal !== undefined) this.#core.clock.clearTimeout(this.#removal);
    this.#removal = undefined;
    this.#core.removeDialogUser(this.#user);
  }

  // ---- INVITE ----------------------------------------------------------------------------

  #targetToUri(target: string): string {
    const t = target.trim();
    if (/^sips?:/i.test(t)) {
      const u = parseSipUri(t);
      if (u.scheme !== 'sip') throw new SipRequestError(416, 'Unsupported URI Scheme', 'sips: is not supported');
      return formatSipUri(u);
    }
    if (t.length === 0) throw new SipRequestError(400, 'Bad Request', 'empty target');
    const at = t.lastIndexOf('@');
    if (at > 0) {
      // "user@host" without a scheme: take it as the full address.
      const hp = parseHostPort(t.slice(at + 1));
      return formatSipUri({ scheme: 'sip', user: t.slice(0, at), host: hp.host, ...(hp.port !== undefined ? { port: hp.port } : {}), params: [], headers: [] });
    }
    return this.#core.userUri(t, this.#account);
  }

  #buildInvite(credentials: readonly SipHeader[]): SipRequest {
    this.#cseq += 1;
    return buildRequest({
      method: 'INVITE',
      uri: this.#targetUri,
      from: this.#from,
      to: this.#to,
      callId: this.callId,
      cseq: this.#cseq,
      contact: this.#core.contact(this.#account),
      userAgent: this.#core.userAgent,
      headers: [{ name: 'Allow', value: ALLOW }, ...this.#extraHeaders, ...credentials],
      body: this.#sdp,
      contentType: 'application/sdp',
    });
  }

  async #start(): Promise<void> {
    if (this.#ended) return;
    if (this.#hangupRequested) {
      this.#end('local', 'cancelled before sending');
      return;
    }
    try {
      this.#dest = await this.#core.transport.resolve(this.#firstHop!);
    } catch (e) {
      this.#reject(new SipRequestError(503, 'Service Unavailable', e instanceof Error ? e.message : String(e)));
      return;
    }
    if (this.#ended) return;
    if (this.#hangupRequested) {
      this.#end('local', 'cancelled before sending');
      return;
    }
    this.#sendInvite([]);
  }

  #sendInvite(credentials: readonly SipHeader[]): void {
    let req: SipRequest;
    try {
      req = this.#buildInvite(credentials);
    } catch (e) {
      this.#reject(new SipRequestError(400, 'Bad Request', e instanceof SipFormatError ? e.message : String(e)));
      return;
    }
    this.#invite = req;
    this.#gotProvisional = false;
    let tx;
    try {
      tx = this.#core.transactions.sendRequest(req, this.#dest!);
    } catch (e) {
      // The user agent was closed meanwhile.
      this.#reject(new SipRequestError(503, 'Service Unavailable', e instanceof Error ? e.message : String(e)));
      return;
    }
    if (!(tx instanceof InviteClientTransaction)) throw new Error('INVITE without INVITE transaction');
    this.#ict = tx;
    this.#core.log.info(`call ${this.callId}: INVITE ${this.#targetUri} (CSeq ${this.#cseq})`);
    tx.on('response', (res) => this.#onInviteResponse(tx, res));
    tx.on('timeout', () => this.#onInviteFailure(tx, new SipRequestError(408, 'Request Timeout', 'no response to INVITE')));
    tx.on('transportError', (err) => this.#onInviteFailure(tx, new SipRequestError(503, 'Service Unavailable', err.message)));
  }

  #onInviteFailure(tx: InviteClientTransaction, err: SipRequestError): void {
    if (tx !== this.#ict || this.#ended) return;
    if (this.#hangupRequested) this.#end('local', `cancelled (${err.status})`);
    else this.#reject(err);
  }

  #onInviteResponse(tx: InviteClientTransaction, res: SipResponse): void {
    const status = res.status;
    if (status >= 200 && status < 300) {
      this.#on2xx(res);
      return;
    }
    if (tx !== this.#ict || this.#ended) return;
    if (status < 200) {
      this.#gotProvisional = true;
      if (status > 100 && this.#state === 'calling' && this.#invite) {
        const d = Dialog.fromResponse(this.#invite, res);
        if (d) {
          this.#dialog = d;
          this.#state = 'early';
        }
      }
      if (this.#hangupRequested && !this.#cancelSent) this.#sendCancel();
      this.emit('provisional', status, res.reason, sdpBody(res));
      return;
    }
    this.#clearCancelGuard();
    if (this.#hangupRequested) {
      this.#end('local', `cancelled (${status} ${res.reason})`);
      return;
    }
    if ((status === 401 || status === 407) && this.#invite) {
      let credentials: SipHeader[];
      try {
        credentials = answerChallenge(this.#digest, res, this.#invite);
      } catch (e) {
        this.#reject(e instanceof SipRequestError ? e : new SipRequestError(status, res.reason));
        return;
      }
      this.#core.log.info(`call ${this.callId}: ${status} challenge, retrying with credentials`);
      this.#dialog = undefined;
      this.#state = 'calling';
      this.#sendInvite(credentials);
      return;
    }
    this.#reject(new SipRequestError(status, res.reason));
  }

  #on2xx(res: SipResponse): void {
    const remoteTag = toTagOf(res);
    const invite = this.#invite;
    if (remoteTag === undefined || invite === undefined) return;
    const known = this.#acks.find((a) => a.remoteTag === remoteTag);
    if (known) {
      // A retransmitted 2xx: our ACK was lost (§13.2.2.4).
      void known.dest.then((dest) => this.#core.transactions.resendStateless(known.request, dest)).catch(() => undefined);
      return;
    }
    const dialog = this.#dialog?.remoteTag === remoteTag ? this.#dialog : Dialog.fromResponse(invite, res);
    if (dialog === undefined) return;
    if (dialog === this.#dialog) dialog.confirm(res);
    this.#sendAck(dialog, invite);
    if (this.#ended || this.#state === 'confirmed') {
      // A second 2xx from another fork, or a 2xx after we gave up: ACK it, then end it (§13.2.2.4).
      this.#core.log.info(`call ${this.callId}: ending extra/late 2xx dialog (tag ${remoteTag})`);
      void this.#byeFor(dialog).catch(() => undefined);
      return;
    }
    this.#clearCancelGuard();
    this.#dialog = dialog;
    this.#state = 'confirmed';
    this.#core.log.info(`call ${this.callId}: ${res.status} ${res.reason}, dialog confirmed`);
    if (this.#hangupRequested) {
      // CANCEL lost the race against the 2xx: end the call with BYE.
      this.#sendBye('hangup');
      return;
    }
    this.emit('accepted', sdpBody(res) ?? res.body.toString('utf8'));
  }

  /**
   * ACK for a 2xx (§13.2.2.4): built by the dialog with the INVITE's CSeq number and
   * credentials, sent outside any transaction to the route set / remote target.
   */
  #sendAck(dialog: Dialog, invite: SipRequest): void {
    const r = this.#routing(dialog);
    const credentials: SipHeader[] = [];
    for (const name of ['Authorization', 'Proxy-Authorization']) {
      for (const value of invite.headers.getAll(name)) credentials.push({ name, value });
    }
    const ack = buildRequest({
      method: 'ACK',
      uri: r.uri,
      from: dialog.localUri,
      to: dialog.remoteUri,
      callId: dialog.callId,
      cseq: cseqOf(invite) ?? 1,
      routes: r.routes,
      userAgent: this.#core.userAgent,
      headers: credentials,
    });
    const dest = this.#core.transport.resolve(r.hop);
    dest.catch(() => undefined);
    this.#acks.push({ remoteTag: dialog.remoteTag, request: ack, dest });
    void dest
      .then((d) => this.#core.transactions.sendStateless(ack, d))
      .catch((e: unknown) => this.#core.log.warn(`call ${this.callId}: ACK not sent: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** CANCEL (§9.1): same Request-URI, Call-ID, From, To, Route and branch as the INVITE. */
  #sendCancel(): void {
    const invite = this.#invite;
    const ict = this.#ict;
    if (!invite || !ict || this.#cancelSent || this.#dest === undefined) return;
    if (ict.state !== 'calling' && ict.state !== 'proceeding') return;
    this.#cancelSent = true;
    const cancel = buildRequest({
      method: 'CANCEL',
      uri: invite.uri,
      from: invite.headers.get('From') ?? '',
      to: invite.headers.get('To') ?? '',
      callId: this.callId,
      cseq: cseqOf(invite) ?? 1,
      routes: invite.headers.getAll('Route'),
      userAgent: this.#core.userAgent,
    });
    this.#core.log.info(`call ${this.callId}: CANCEL`);
    const tx = this.#core.transactions.sendRequest(cancel, this.#dest, { branch: ict.branch });
    finalResponse(tx).catch(() => undefined);
    // §9.1: without a final response to the INVITE within 64·T1 of the CANCEL, give up on it.
    this.#cancelGuard = this.#core.clock.setTimeout(() => {
      this.#cancelGuard = undefined;
      if (this.#ended || this.#state === 'confirmed') return;
      this.#ict?.terminate();
      this.#end('local', 'cancelled (no final response)');
    }, 64 * this.#core.transactions.timers.t1);
  }

  #clearCancelGuard(): void {
    if (this.#cancelGuard !== undefined) this.#core.clock.clearTimeout(this.#cancelGuard);
    this.#cancelGuard = undefined;
  }

  // ---- in-dialog requests ----------------------------------------------------------------

  /** Request-URI, Route values and next hop for a request in `dialog`. */
  #routing(dialog: Dialog): { uri: string; routes: string[]; hop: SipHostTarget } {
    if (this.#singleRoute) {
      // Only the configured proxy (or domain) is used; it gets a loose Route to itself so a
      // proxy that dispatches in-dialog requests by Route (kamailio loose_route) accepts them.
      const hop = this.#firstHop!;
      const proxy = formatSipUri({
        scheme: 'sip',
        host: hop.host,
        port: hop.port,
        params: [...(hop.transport === 'tcp' ? [{ name: 'transport', value: 'tcp' }] : []), { name: 'lr', value: null }],
        headers: [],
      });
      return { uri: dialog.remoteTarget, routes: [`<${proxy}>`], hop };
    }
    const r = dialog.routing();
    return { uri: r.uri, routes: [...r.routes], hop: hopOf(r.hopUri, this.#account.transport) };
  }

  /** Sends a non-INVITE request in the dialog (new CSeq per attempt), answering challenges. */
  async #inDialogRequest(method: string, o: { contentType?: string; body?: string } = {}, dialog = this.#dialog): Promise<SipResponse> {
    if (dialog === undefined) throw new SipRequestError(481, 'Call/Transaction Does Not Exist');
    const r = this.#routing(dialog);
    let dest: SipEndpoint;
    try {
      dest = await this.#core.transport.resolve(r.hop);
    } catch (e) {
      throw new SipRequestError(503, 'Service Unavailable', e instanceof Error ? e.message : String(e));
    }
    return requestWithAuth({
      transactions: this.#core.transactions,
      dest,
      digest: this.#digest,
      build: (credentials) =>
        buildRequest({
          method,
          uri: r.uri,
          from: dialog.localUri,
          to: dialog.remoteUri,
          callId: dialog.callId,
          cseq: dialog.nextSeq(),
          routes: r.routes,
          contact: method === 'BYE' ? undefined : this.#core.contact(this.#account),
          userAgent: this.#core.userAgent,
          headers: credentials,
          ...(o.body !== undefined ? { body: o.body, contentType: o.contentType ?? 'text/plain' } : {}),
        }),
    });
  }

  async #byeFor(dialog: Dialog): Promise<number> {
    const res = await this.#inDialogRequest('BYE', {}, dialog);
    return res.status;
  }

  /** BYE for the confirmed dialog; `terminated` follows its final response (or failure). */
  #sendBye(reason: string): void {
    if (this.#byeSent || this.#ended) return;
    this.#byeSent = true;
    this.#hangupRequested = true;
    this.#core.log.info(`call ${this.callId}: BYE (${reason})`);
    this.#byeFor(this.#dialog!).then(
      (status) => this.#end('local', status < 300 ? reason : `${reason} (BYE answered ${status})`),
      (e: unknown) => this.#end('local', `${reason} (BYE failed: ${e instanceof SipRequestError ? e.status : 'error'})`),
    );
  }

  /** Peer re-INVITE (§14.2): the application answers through `respond`. */
  #onReinvite(req: SipRequest, tx: InviteServerTransaction, dialog: Dialog): void {
    if (this.#state !== 'confirmed' || this.#byeSent) {
      this.#core.respond(tx, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (this.#reinvite && this.#reinvite.finalStatus === undefined) {
      // An earlier re-INVITE is still unanswered (§14.2).
      this.#core.respond(tx, 500, 'Server Internal Error', [['Retry-After', String(Math.floor(Math.random() * 10))]]);
      return;
    }
    this.#reinvite = tx;
    let answered = false;
    const respond = (answerSdp: string | null): void => {
      if (answered) return;
      answered = true;
      if (this.#reinviteGuard !== undefined) this.#core.clock.clearTimeout(this.#reinviteGuard);
      this.#reinviteGuard = undefined;
      if (tx.finalStatus !== undefined || tx.state === 'terminated') return; // CANCELled meanwhile
      if (answerSdp === null) {
        this.#core.respond(tx, 488, 'Not Acceptable Here');
        return;
      }
      // Only an accepted re-INVITE refreshes the target (§12.2.2).
      this.#updateTarget(dialog, req);
      try {
        tx.respond(
          buildResponse(req, 200, 'OK', {
            headers: [
              ['Contact', this.#core.contact(this.#account)],
              ['Allow', ALLOW],
              ['Server', this.#core.userAgent],
            ],
            body: answerSdp,
            contentType: 'application/sdp',
          }),
        );
      } catch (e) {
        this.#core.log.warn(`call ${this.callId}: cannot answer re-INVITE: ${e instanceof Error ? e.message : String(e)}`);
        this.#core.respond(tx, 500, 'Server Internal Error');
      }
    };
    tx.on('ackTimeout', () => {
      // §13.3.1.4: a 2xx never ACKed means the session is dead; end it with BYE.
      if (tx.finalStatus !== undefined && tx.finalStatus < 300) this.#sendBye('no ACK for re-INVITE answer');
    });
    this.#reinviteGuard = this.#core.clock.setTimeout(() => {
      this.#reinviteGuard = undefined;
      respond(null);
    }, REINVITE_ANSWER_TIMEOUT_MS);
    this.emit('reinvite', sdpBody(req) ?? '', respond);
  }

  /** A target refresh request (re-INVITE) replaces the remote target with its Contact (§12.2.2). */
  #updateTarget(dialog: Dialog, req: SipRequest): void {
    dialog.remoteTarget = contactUriOf(req) ?? dialog.remoteTarget;
  }

  // ---- endings ---------------------------------------------------------------------------

  #reject(err: SipRequestError): void {
    if (this.#ended) return;
    this.#finish();
    this.#core.log.info(`call ${this.callId}: rejected ${err.status} ${err.reason}`);
    this.emit('rejected', err);
    // The dialog record lingers 64·T1 for ACK re-sends; the application's objects need not.
    this.removeAllListeners();
  }

  #end(by: 'local' | 'remote', reason: string): void {
    if (this.#ended) return;
    this.#finish();
    this.#core.log.info(`call ${this.callId}: terminated by ${by} (${reason})`);
    this.emit('terminated', by, reason);
    this.removeAllListeners();
  }

  #finish(): void {
    this.#ended = true;
    this.#state = 'terminated';
    this.#clearCancelGuard();
    if (this.#reinviteGuard !== undefined) this.#core.clock.clearTimeout(this.#reinviteGuard);
    this.#reinviteGuard = undefined;
    // Keep answering 2xx retransmissions for a while (ACK re-send), then forget the call.
    const t1 = this.#core.transactions.timers.t1;
    this.#removal = this.#core.clock.setTimeout(() => {
      this.#removal = undefined;
      this.#core.removeDialogUser(this.#user);
    }, this.#acks.length > 0 ? 64 * t1 : 0);
  }
}
