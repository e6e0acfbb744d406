/**
 * The plain-RTP side of a SIP call: UDP sockets per media kind, validation of what the peer
 * sends, and the little sipcast sends back (RTCP reports, keyframe requests, DTMF, the packets
 * that open NAT bindings).
 *
 * Every datagram is untrusted: it is size-checked, version-checked, matched against the
 * negotiated payload type and the peer's source before anything else looks at it, and whatever is
 * dropped is counted per reason (field-lessons.md "RTP/RTCP"). Nothing here decodes media; the
 * stream behind `pushRtp` rewrites SSRC, sequence numbers and timestamps itself.
 */
import { randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MediaKind } from '../media/MediaTypes.js';
import { RTP_HEADER_SIZE, RTP_MAX_PACKET_SIZE, isRtcp, rtpPayloadOffset, rtpSsrc, writeRtpHeader } from '../rtp/RtpHeader.js';
import { buildLegacyFir, buildReceiverReport, buildReceiverReportPliCompound, parseRtcpFeedback } from '../rtp/rtcp.js';
import type { Logger } from '../util/Logger.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { dtmfEventCodes, dtmfPayloads, writeTelephoneEvent } from './Dtmf.js';
import { type RtpClock, systemClock } from './RtpClock.js';
import { type BoundPortPair, bindPortPair } from './RtpPortAllocator.js';
import { OFFER_PT, type AnswerStream, type SipAnswer } from './SipSdp.js';
import { type LatchingMode, SourceLatch } from './SourceLatch.js';

export type { LatchingMode } from './SourceLatch.js';

export interface RtpSessionOpenOptions {
  /** Local address for all sockets (the address our SDP announces, or 0.0.0.0). */
  bindAddress: string;
  portMin: number;
  portMax: number;
  /** One RTP/RTCP pair is bound per kind. */
  kinds: readonly MediaKind[];
  log: Logger;
  /** Injected in tests; defaults to the real clock. */
  clock?: RtpClock;
  /** RTCP CNAME; default `sipcast@<bindAddress>`. */
  cname?: string;
}

/** Where received media goes (a live stream). Takes ownership of each Buffer. */
export interface RtpTarget {
  pushRtp(kind: MediaKind, packet: Buffer): void;
}

export interface RtpStartOptions {
  /** WCS `rtp_session_init_always`: send towards the peer at once to open latching and NAT bindings. */
  initAlways: boolean;
  /** WCS `rtp_activity_detecting`: emit `inactive` after this long without valid RTP; 0 = off. */
  inactivityTimeoutMs: number;
  latching: LatchingMode;
}

export interface DtmfOptions {
  /** Length of each key press; default 160 ms. */
  durationMs?: number;
  /** Power level in -dBm0 (0..63); default 10. */
  volume?: number;
}

/** Why a datagram was dropped. */
export type RtpDropReason =
  | 'size' // shorter than an RTP header or above 1500 bytes
  | 'version' // not RTP version 2
  | 'malformed' // CSRC/extension/padding run past the datagram
  | 'payloadType' // not the negotiated codec (or telephone-event)
  | 'source' // not from the peer (or not the latched source)
  | 'notNegotiated' // before start(), or a kind the answer did not accept
  | 'rtcpMalformed'
  | 'rtcpSource';

export interface RtpSessionCounters {
  forwarded: Record<MediaKind, number>;
  dropped: Record<RtpDropReason, number>;
  telephoneEventsReceived: number;
  rtcpReceived: number;
  rtpSent: number;
  rtcpSent: number;
  sendErrors: number;
  keyframeRequests: number;
  dtmfDigitsSent: number;
}

export type RtpSessionEvents = {
  /** The first valid RTP packet of a kind was forwarded. */
  firstPacket: [kind: MediaKind];
  /** No valid RTP for `inactivityTimeoutMs` (emitted once per silent period). */
  inactive: [];
  /** Symmetric RTP: a kind's RTP source was (re-)latched. */
  latched: [kind: MediaKind, address: string, port: number];
};

/** RTCP report interval (RFC 3550 §6.2 suggests 5 s minimum). */
const RTCP_INTERVAL_MS = 5000;
const INACTIVITY_CHECK_MS = 1000;
const DTMF_PACKET_MS = 20;
/** Gap between two key presses, so the far end sees two events and not one long one. */
const DTMF_GAP_MS = 60;

/** 20 ms of silence per codec: opus CELT-only FB 20 ms TOC plus the 2-byte silence frame WebRTC uses; G.711 zero level. */
const SILENCE: Record<'opus' | 'PCMU' | 'PCMA', Buffer> = {
  opus: Buffer.from([0xf8, 0xff, 0xfe]),
  PCMU: Buffer.alloc(160, 0xff),
  PCMA: Buffer.alloc(160, 0xd5),
};

interface KindState {
  readonly kind: MediaKind;
  readonly pair: BoundPortPair;
  remote?: AnswerStream;
  /** PTs forwarded: the answer's PT and our offered PT for the same codec (RFC 3264 lets either arrive). */
  mediaPts: Set<number>;
  /** telephone-event PTs: counted, not forwarded. */
  eventPts: Set<number>;
  rtpLatch?: SourceLatch;
  rtcpLatch?: SourceLatch;
  peerSsrc?: number;
  gotFirst: boolean;
  /** Our SSRC, sequence number and timestamp origin for what we send on this kind. */
  readonly ssrc: number;
  seq: number;
  readonly tsBase: number;
  /** Last RTP timestamp we used, so DTMF events never go backwards. */
  lastTs: number;
}

/** One call's RTP/RTCP sockets. Open with {@link RtpSession.open}, then {@link start} with the answer. */
export class RtpSession extends TypedEmitter<RtpSessionEvents> {
  /** Local ports per kind, for the SDP offer. */
  readonly ports: Partial<Record<MediaKind, { rtp: number; rtcp: number }>>;
  readonly counters: RtpSessionCounters = {
    forwarded: { audio: 0, video: 0 },
    dropped: { size: 0, version: 0, malformed: 0, payloadType: 0, source: 0, notNegotiated: 0, rtcpMalformed: 0, rtcpSource: 0 },
    telephoneEventsReceived: 0,
    rtcpReceived: 0,
    rtpSent: 0,
    rtcpSent: 0,
    sendErrors: 0,
    keyframeRequests: 0,
    dtmfDigitsSent: 0,
  };

  readonly #log: Logger;
  readonly #clock: RtpClock;
  readonly #cname: string;
  readonly #kinds: Map<MediaKind, KindState>;
  readonly #t0: number;
  #target: RtpTarget | undefined;
  #started = false;
  #closed = false;
  #opts: RtpStartOptions = { initAlways: false, inactivityTimeoutMs: 0, latching: 'off' };
  #lastRtpAt = 0;
  #inactiveEmitted = false;
  #timers: Array<() => void> = [];
  #dtmfChain: Promise<void> = Promise.resolve();
  readonly #loggedDrops = new Set<RtpDropReason>();

  private constructor(states: KindState[], log: Logger, clock: RtpClock, cname: string) {
    super();
    this.#log = log;
    this.#clock = clock;
    this.#cname = cname;
    this.#t0 = clock.now();
    this.#kinds = new Map(states.map((s) => [s.kind, s]));
    this.ports = Object.fromEntries(states.map((s) => [s.kind, { rtp: s.pair.rtpPort, rtcp: s.pair.rtcpPort }]));
    for (const st of states) {
      st.pair.rtp.on('message', (msg, rinfo) => this.#onRtp(st, msg, rinfo));
      st.pair.rtcp.on('message', (msg, rinfo) => this.#onRtcp(st, msg, rinfo));
      for (const sock of [st.pair.rtp, st.pair.rtcp]) {
        sock.on('error', (err) => this.#log.warn(`${st.kind} socket error: ${err.message}`));
      }
    }
  }

  /**
   * Binds an RTP port (even) and RTCP port (+1) per kind in [portMin, portMax].
   * @throws when the range has no free pair left, or for a bad range or address.
   */
  static async open(o: RtpSessionOpenOptions): Promise<RtpSession> {
    const kinds = [...new Set(o.kinds)];
    if (kinds.length === 0) throw new RangeError('RtpSession needs at least one media kind');
    const pairs: BoundPortPair[] = [];
    try {
      for (const kind of kinds) {
        const pair = await bindPortPair(o.bindAddress, o.portMin, o.portMax);
        pairs.push(pair);
        if (kind === 'video') {
          // an IDR arrives as a ~15-packet burst; the default buffer is enough, more is cheap insurance
          try {
            pair.rtp.setRecvBufferSize(1 << 20);
          } catch {
            // capped or refused by the OS: the default still works
          }
        }
      }
    } catch (err) {
      await Promise.all(pairs.map((p) => p.release()));
      throw err;
    }
    const states = kinds.map(
      (kind, i): KindState => ({
        kind,
        pair: pairs[i]!,
        mediaPts: new Set(),
        eventPts: new Set(),
        gotFirst: false,
        ssrc: randomInt(1, 0xffffffff),
        seq: randomInt(0, 0x10000),
        tsBase: randomInt(0, 0xffffffff),
        lastTs: -1,
      }),
    );
    return new RtpSession(states, o.log, o.clock ?? systemClock, o.cname ?? `sipcast@${o.bindAddress}`);
  }

  /**
   * Starts receiving for the kinds the answer accepted and forwarding them to `target`.
   * @throws if already started or closed.
   */
  start(answer: SipAnswer, target: RtpTarget, opts: RtpStartOptions): void {
    if (this.#started || this.#closed) throw new Error('RtpSession already started or closed');
    this.#started = true;
    this.#target = target;
    this.#opts = { ...opts };
    this.#lastRtpAt = this.#clock.now();
    this.updateRemote(answer);
    if (opts.initAlways) this.#sendInitPackets();
    // RTCP keeps the peer's RTCP timeout (and NAT bindings) alive whether or not initAlways is set.
    this.#timers.push(this.#clock.every(RTCP_INTERVAL_MS, () => this.#sendReports()));
    if (opts.inactivityTimeoutMs > 0) {
      this.#timers.push(this.#clock.every(INACTIVITY_CHECK_MS, () => this.#checkInactivity()));
    }
  }

  /**
   * Applies new peer media parameters (a re-INVITE): address, ports and payload types.
   * Kinds missing from `remote` stop forwarding. A latched source is kept until it goes silent.
   */
  updateRemote(remote: SipAnswer): void {
    for (const st of this.#kinds.values()) {
      const s = remote[st.kind];
      if (!s) {
        if (st.remote) this.#log.info(`${st.kind}: no longer negotiated`);
        st.remote = undefined;
        continue;
      }
      st.remote = s;
      st.mediaPts = new Set([s.payloadType]);
      const offered = s.codec === 'H264' ? OFFER_PT.H264 : OFFER_PT[s.codec];
      st.mediaPts.add(offered);
      st.eventPts = new Set<number>([OFFER_PT.telephoneEvent8k, OFFER_PT.telephoneEvent48k]);
      if (s.telephoneEventPt !== undefined) st.eventPts.add(s.telephoneEventPt);
      for (const pt of st.mediaPts) st.eventPts.delete(pt); // a codec PT always wins
      if (st.rtpLatch && st.rtpLatch.mode === this.#opts.latching) {
        st.rtpLatch.setExpected(s.address);
        st.rtcpLatch?.setExpected(s.rtcpAddress);
      } else {
        st.rtpLatch = new SourceLatch(this.#opts.latching, s.address);
        st.rtcpLatch = new SourceLatch(this.#opts.latching, s.rtcpAddress);
      }
    }
    for (const kind of remote.rejected) this.#log.info(`${kind} rejected by the peer: ${remote.rejectReasons[kind] ?? 'no reason'}`);
  }

  /**
   * Asks the peer for a video keyframe: one compound RR + SDES + PLI + legacy FIR (RTCP PT 192)
   * to its video RTCP port. baresip honours both and ignores the RFC 5104 FIR, which would also
   * hide a following PLI from libre (keyframe-on-demand.md §0, §6.1); the PLI goes first for the
   * same reason. The media SSRC is the one seen in the peer's video RTP, 0 before any arrived.
   *
   * Requests are lost by the peer now and then (§6.2): the caller watches for the IDR and retries.
   * @returns false when no video stream is running.
   */
  requestKeyframe(): boolean {
    const st = this.#kinds.get('video');
    if (!st?.remote || this.#closed) return false;
    const media = st.peerSsrc ?? 0;
    const packet = Buffer.concat([buildReceiverReportPliCompound(st.ssrc, media, this.#cname), buildLegacyFir(media)]);
    this.counters.keyframeRequests++;
    this.#sendRtcp(st, packet);
    return true;
  }

  /**
   * Sends DTMF as RFC 4733 telephone events on the audio stream, one key after another (calls
   * queue behind each other). Resolves when the last end packet has been sent.
   *
   * @throws (rejects) for invalid keys, when the peer accepted no telephone-event, when there is
   * no audio stream, or when the session closes meanwhile.
   */
  sendDtmf(digits: string, opts: DtmfOptions = {}): Promise<void> {
    const run = this.#dtmfChain.then(() => this.#sendDtmfNow(digits, opts));
    this.#dtmfChain = run.catch(() => undefined);
    return run;
  }

  /** Stops timers and closes the sockets; the ports become free again. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#timers) stop();
    this.#timers = [];
    this.#target = undefined;
    await Promise.all([...this.#kinds.values()].map((st) => st.pair.release()));
    this.removeAllListeners();
  }

  // ---- receive ----

  #onRtp(st: KindState, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const len = msg.length;
    if (len < RTP_HEADER_SIZE || len > RTP_MAX_PACKET_SIZE) return this.#drop('size', st, rinfo);
    if (msg[0]! >> 6 !== 2) return this.#drop('version', st, rinfo);
    // RTCP can share the RTP port (rtcp-mux, RFC 5761 §4); its PT byte 192..223 is no RTP PT we accept.
    if (isRtcp(msg)) return this.#onRtcp(st, msg, rinfo);
    const remote = st.remote;
    const target = this.#target;
    if (!remote || !target) return this.#drop('notNegotiated', st, rinfo);
    if (rtpPayloadOffset(msg) < 0) return this.#drop('malformed', st, rinfo);
    const pt = msg[1]! & 0x7f;
    const isEvent = st.eventPts.has(pt);
    if (!isEvent && !st.mediaPts.has(pt)) return this.#drop('payloadType', st, rinfo);
    const now = this.#clock.now();
    const verdict = st.rtpLatch!.check(rinfo.address, rinfo.port, now);
    if (verdict === 'reject') return this.#drop('source', st, rinfo);
    if (verdict === 'latch') {
      this.#log.info(`${st.kind}: latched RTP source ${rinfo.address}:${rinfo.port} (SDP said ${remote.address}:${remote.port})`);
      this.emit('latched', st.kind, rinfo.address, rinfo.port);
    }
    this.#lastRtpAt = now;
    this.#inactiveEmitted = false;
    if (isEvent) {
      this.counters.telephoneEventsReceived++;
      return;
    }
    st.peerSsrc = rtpSsrc(msg);
    this.counters.forwarded[st.kind]++;
    if (!st.gotFirst) {
      st.gotFirst = true;
      this.#log.info(`${st.kind}: first RTP from ${rinfo.address}:${rinfo.port}, PT ${pt}, SSRC ${st.peerSsrc}`);
      this.emit('firstPacket', st.kind);
    }
    target.pushRtp(st.kind, ownBuffer(msg));
  }

  #onRtcp(st: KindState, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!st.remote || !this.#started) return this.#drop('notNegotiated', st, rinfo);
    if (parseRtcpFeedback(msg) === null) return this.#drop('rtcpMalformed', st, rinfo);
    const verdict = st.rtcpLatch!.check(rinfo.address, rinfo.port, this.#clock.now());
    if (verdict === 'reject') return this.#drop('rtcpSource', st, rinfo);
    this.counters.rtcpReceived++;
  }

  #drop(reason: RtpDropReason, st: KindState, rinfo: dgram.RemoteInfo): void {
    this.counters.dropped[reason]++;
    // The first drop per reason tells the operator what is wrong; the rest only count (a flood must not flood the log).
    if (!this.#loggedDrops.has(reason)) {
      this.#loggedDrops.add(reason);
      const line = `${st.kind}: dropping packets (${reason}) from ${rinfo.address}:${rinfo.port}, ${rinfo.size} bytes; further drops are only counted`;
      // Peers start sending as soon as they answer, before the 200 OK is processed: that one is normal.
      if (reason === 'notNegotiated') this.#log.debug(line);
      else this.#log.warn(line);
    }
  }

  #checkInactivity(): void {
    if (this.#closed || this.#inactiveEmitted) return;
    const idle = this.#clock.now() - this.#lastRtpAt;
    if (idle >= this.#opts.inactivityTimeoutMs) {
      this.#inactiveEmitted = true;
      this.#log.warn(`no valid RTP for ${Math.round(idle)} ms (forwarded audio ${this.counters.forwarded.audio}, video ${this.counters.forwarded.video})`);
      this.emit('inactive');
    }
  }

  // ---- send ----

  /** RTCP RR + SDES to every RTCP port, and 20 ms of silence to the audio RTP port. */
  #sendInitPackets(): void {
    this.#sendReports();
    const st = this.#kinds.get('audio');
    const remote = st?.remote;
    // Video gets no RTP: any H.264 we made up would reach the peer's decoder. Its RTCP RR opens the RTCP path.
    if (!st || !remote || remote.codec === 'H264') return;
    const payload = SILENCE[remote.codec];
    const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
    writeRtpHeader(buf, {
      payloadType: remote.payloadType,
      marker: true, // first packet of a talkspurt
      seq: st.seq++,
      timestamp: this.#nextTimestamp(st, remote.clockRate),
      ssrc: st.ssrc,
    });
    payload.copy(buf, RTP_HEADER_SIZE);
    this.#sendRtp(st, buf);
  }

  #sendReports(): void {
    for (const st of this.#kinds.values()) {
      if (st.remote) this.#sendRtcp(st, buildReceiverReport(st.ssrc, this.#cname));
    }
  }

  async #sendDtmfNow(digits: string, opts: DtmfOptions): Promise<void> {
    const events = dtmfEventCodes(digits);
    const durationMs = opts.durationMs ?? 160;
    const volume = opts.volume ?? 10;
    if (!(durationMs >= 40 && durationMs <= 5000)) throw new RangeError(`DTMF duration ${durationMs} ms outside 40..5000`);
    if (!Number.isInteger(volume) || volume < 0 || volume > 63) throw new RangeError(`DTMF volume ${volume} outside 0..63`);
    const st = this.#kinds.get('audio');
    if (this.#closed) throw new Error('RtpSession is closed');
    if (!st?.remote) throw new Error('cannot send DTMF: no audio stream negotiated');
    const pt = st.remote.telephoneEventPt;
    if (pt === undefined) throw new Error('cannot send DTMF: the peer did not accept telephone-event (RFC 4733)');
    const rate = st.remote.telephoneEventClockRate ?? st.remote.clockRate;
    for (let i = 0; i < events.length; i++) {
      if (i > 0) await this.#pause(DTMF_GAP_MS);
      const timestamp = this.#nextTimestamp(st, rate);
      const payloads = dtmfPayloads(events[i]!, rate, durationMs, volume, DTMF_PACKET_MS);
      for (let p = 0; p < payloads.length; p++) {
        if (p > 0) await this.#pause(DTMF_PACKET_MS);
        const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + 4);
        // every packet of one event carries the event's start timestamp (RFC 4733 §2.5.1.2)
        writeRtpHeader(buf, { payloadType: pt, marker: p === 0, seq: st.seq++, timestamp, ssrc: st.ssrc });
        writeTelephoneEvent(buf, RTP_HEADER_SIZE, payloads[p]!);
        this.#sendRtp(st, buf);
      }
      // the next event must start after this one ended on the RTP clock
      st.lastTs = (timestamp + payloads[payloads.length - 1]!.duration) >>> 0;
      this.counters.dtmfDigitsSent++;
    }
  }

  async #pause(ms: number): Promise<void> {
    await sleep(ms);
    if (this.#closed) throw new Error('RtpSession closed while sending DTMF');
  }

  /** Our RTP timestamp for "now" on a kind's timeline, never behind one already used. */
  #nextTimestamp(st: KindState, clockRate: number): number {
    const elapsed = Math.floor(((this.#clock.now() - this.#t0) * clockRate) / 1000);
    let ts = (st.tsBase + elapsed) >>> 0;
    if (st.lastTs >= 0 && ((ts - st.lastTs) | 0) <= 0) ts = (st.lastTs + 1) >>> 0;
    st.lastTs = ts;
    return ts;
  }

  /** RTP goes to the latched source (symmetric RTP) or else to the SDP address and port. */
  #sendRtp(st: KindState, buf: Buffer): void {
    const r = st.remote;
    if (!r) return;
    const latched = st.rtpLatch?.source;
    this.#send(st.pair.rtp, buf, latched?.port ?? r.port, latched?.address ?? r.address, 'rtp');
  }

  /**
   * RTCP goes to the latched RTCP source; else, when RTP is latched (NAT), to the latched address
   * at the SDP RTCP port; else to the SDP RTCP address and port. With rtcp-mux it follows RTP.
   */
  #sendRtcp(st: KindState, buf: Buffer): void {
    const r = st.remote;
    if (!r) return;
    const rtpSrc = st.rtpLatch?.source;
    if (r.rtcpMux) {
      this.#send(st.pair.rtp, buf, rtpSrc?.port ?? r.port, rtpSrc?.address ?? r.address, 'rtcp');
      return;
    }
    const src = st.rtcpLatch?.source;
    this.#send(st.pair.rtcp, buf, src?.port ?? r.rtcpPort, src?.address ?? rtpSrc?.address ?? r.rtcpAddress, 'rtcp');
  }

  #send(sock: dgram.Socket, buf: Buffer, port: number, address: string, what: 'rtp' | 'rtcp'): void {
    // 0.0.0.0 is the old-style hold address (RFC 3264 §8.4): nothing may be sent there.
    if (this.#closed || address === '0.0.0.0' || address === '::') return;
    const onDone = (err: Error | null): void => {
      if (err) {
        this.counters.sendErrors++;
        this.#log.debug(`${what} send to ${address}:${port} failed: ${err.message}`);
      }
    };
    try {
      sock.send(buf, port, address, onDone);
      if (what === 'rtp') this.counters.rtpSent++;
      else this.counters.rtcpSent++;
    } catch (err) {
      onDone(err as Error);
    }
  }
}

/**
 * The stream keeps and rewrites each packet, so it must own its bytes. Node's dgram already hands
 * out one exactly-sized ArrayBuffer per datagram; copy only if a runtime ever gives a pooled slice.
 */
function ownBuffer(msg: Buffer): Buffer {
  if (msg.byteOffset === 0 && msg.buffer.byteLength === msg.length) return msg;
  const copy = Buffer.allocUnsafeSlow(msg.length);
  msg.copy(copy);
  return copy;
}
