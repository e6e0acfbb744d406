/**
 * The call-setup benchmark's callee: a minimal SIP UAS over UDP on 127.0.0.1 that answers every
 * INVITE at once (100 Trying + 200 OK with an SDP answer in the same tick), absorbs ACKs, answers
 * BYE/INFO/OPTIONS/CANCEL with 200, and timestamps every request with process.hrtime (the same
 * CLOCK_MONOTONIC the benchmark reads right before its fetch).
 *
 * Calls are told apart by the Request-URI user: the benchmark calls `sip:<callId>@127.0.0.1:<port>`
 * with the REST callId as user, and the 200's Contact carries it too, so the ACK and BYE find it.
 *
 * Two media modes:
 *  - `sink` (default): every answer points at one shared audio and one shared video port pair that
 *    reads and drops what the server sends (rtp_session_init_always RTP/RTCP, RTCP RR). No RTP from us.
 *  - `clip`: each call gets its own audio and video port pairs, and once the ACK arrives it sends the
 *    demo clip's H.264 and opus tracks as RTP from them (symmetric RTP) to the offer's ports, paced
 *    in real time by one ClipPacer per call, all pumped by one 5 ms timer. RTCP PLI/FIR/NACK from
 *    the server jump the call's clip back to its latest keyframe (rate-limited, like a softphone).
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { Clip } from '../../src/media/clip/ClipFormat.js';
import { ClipPacer } from '../../src/media/clip/ClipPacer.js';
import { parseRtcpFeedback } from '../../src/rtp/rtcp.js';
import { writeRtpHeader } from '../../src/rtp/RtpHeader.js';
import { bindPortPair, type BoundPortPair } from '../../src/sipmedia/RtpPortAllocator.js';

const ADDR = '127.0.0.1';
const KEYFRAME_MIN_INTERVAL_MS = 500;
const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

export type CalleeEvent = 'invite' | 'ack' | 'bye';

export interface CalleeCall {
  readonly user: string;
  readonly sipCallId: string;
  readonly toTag: string;
  /** hrtime in ms of the first INVITE / ACK / BYE. */
  invite: number;
  ack?: number;
  bye?: number;
  inviteCount: number;
  otherRequests: Record<string, number>;
  response200?: string;
  dest: { address: string; port: number };
  retrans?: NodeJS.Timeout;
  media?: CallMedia;
}

interface ParsedSip {
  readonly first: string;
  readonly headers: [name: string, value: string][];
  readonly body: string;
}

function parseSip(buf: Buffer): ParsedSip | null {
  const text = buf.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return null;
  const lines = text.slice(0, split).split('\r\n');
  const first = lines.shift() ?? '';
  const headers: [string, string][] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
      headers[headers.length - 1]![1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let name = line.slice(0, colon).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { first, headers, body: text.slice(split + 4) };
}

const header = (m: ParsedSip, name: string): string | undefined => m.headers.find(([n]) => n === name)?.[1];

/** What the server offered, as far as the answer needs it. */
interface OfferInfo {
  address: string;
  audioPort?: number;
  videoPort?: number;
  opusPt: number;
  h264Pt: number;
}

function parseOffer(sdp: string): OfferInfo {
  const address = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1] ?? ADDR;
  const audioPort = /^m=audio (\d+)/m.exec(sdp)?.[1];
  const videoPort = /^m=video (\d+)/m.exec(sdp)?.[1];
  return {
    address,
    ...(audioPort && audioPort !== '0' ? { audioPort: Number(audioPort) } : {}),
    ...(videoPort && videoPort !== '0' ? { videoPort: Number(videoPort) } : {}),
    opusPt: Number(/^a=rtpmap:(\d+) opus\/48000/im.exec(sdp)?.[1] ?? 111),
    h264Pt: Number(/^a=rtpmap:(\d+) H264\/90000/im.exec(sdp)?.[1] ?? 96),
  };
}

function answerSdp(offer: OfferInfo, audioPort: number, videoPort: number, sessionId: number): string {
  const l = ['v=0', `o=bench ${sessionId} 1 IN IP4 ${ADDR}`, 's=-', `c=IN IP4 ${ADDR}`, 't=0 0'];
  if (offer.audioPort) l.push(`m=audio ${audioPort} RTP/AVP ${offer.opusPt}`, `a=rtpmap:${offer.opusPt} opus/48000/2`, 'a=sendonly');
  if (offer.videoPort) {
    l.push(
      `m=video ${videoPort} RTP/AVP ${offer.h264Pt}`,
      `a=rtpmap:${offer.h264Pt} H264/90000`,
      `a=fmtp:${offer.h264Pt} profile-level-id=42e01f;packetization-mode=1`,
      'a=sendonly',
    );
  }
  return `${l.join('\r\n')}\r\n`;
}

/** One call's clip sender (mode `clip`). */
class CallMedia {
  readonly pairs: { audio: BoundPortPair; video: BoundPortPair };
  readonly #clip: Clip;
  readonly #offer: OfferInfo;
  readonly #tracks: { video: number; audio: number };
  readonly #state = new Map<number, { seq: number; ssrc: number; tsBase: number; kind: 'audio' | 'video' }>();
  #pacer: ClipPacer | undefined;
  #lastKeyframe = -Infinity;
  packets = 0;
  bytes = 0;
  rtcpIn = 0;
  keyframeRequests = 0;
  keyframesHonoured = 0;

  constructor(clip: Clip, offer: OfferInfo, pairs: { audio: BoundPortPair; video: BoundPortPair }) {
    this.#clip = clip;
    this.#offer = offer;
    this.pairs = pairs;
    const video = clip.tracks.findIndex((t) => t.codec === 'H264');
    const audio = clip.tracks.findIndex((t) => t.codec === 'opus');
    if (video < 0 || audio < 0) throw new Error('the clip needs an H264 and an opus track');
    this.#tracks = { video, audio };
    for (const [kind, t] of [
      ['video', video],
      ['audio', audio],
    ] as const) {
      this.#state.set(t, { seq: randomInt(0, 0xffff), ssrc: randomInt(1, 0xffffffff), tsBase: randomInt(0, 0x7fffffff), kind });
    }
    for (const p of [pairs.audio, pairs.video]) {
      p.rtp.on('message', () => undefined); // the server's own RTP (rtp_session_init_always)
      p.rtcp.on('message', (msg) => {
        this.rtcpIn++;
        const fb = parseRtcpFeedback(msg);
        if (fb && (fb.pli || fb.fir || fb.nackSeqs.length > 0)) this.#keyframe();
      });
    }
  }

  static async open(clip: Clip, offer: OfferInfo, portMin: number, portMax: number): Promise<CallMedia> {
    const audio = await bindPortPair(ADDR, portMin, portMax);
    let video: BoundPortPair;
    try {
      video = await bindPortPair(ADDR, portMin, portMax);
    } catch (err) {
      void audio.release();
      throw err;
    }
    return new CallMedia(clip, offer, { audio, video });
  }

  get started(): boolean {
    return this.#pacer !== undefined;
  }

  start(now: number): void {
    if (this.#pacer) return;
    const tracks = [];
    if (this.#offer.videoPort) tracks.push(this.#tracks.video);
    if (this.#offer.audioPort) tracks.push(this.#tracks.audio);
    this.#pacer = new ClipPacer(this.#clip, (track, rec, off) => this.#send(track, rec.payload, rec.marker, rec.timestamp + off), { tracks });
    this.#pacer.anchor(now);
  }

  pump(now: number): void {
    this.#pacer?.pump(now);
  }

  close(): void {
    this.#pacer = undefined;
    void this.pairs.audio.release();
    void this.pairs.video.release();
  }

  #keyframe(): void {
    this.keyframeRequests++;
    const now = performance.now();
    if (!this.#pacer || now - this.#lastKeyframe < KEYFRAME_MIN_INTERVAL_MS) return;
    this.#lastKeyframe = now;
    if (this.#pacer.seekToLatestKeyframe(now)) this.keyframesHonoured++;
  }

  #send(track: number, payload: Buffer, marker: boolean, ts: number): void {
    const s = this.#state.get(track)!;
    const buf = Buffer.allocUnsafe(12 + payload.length);
    const video = s.kind === 'video';
    writeRtpHeader(buf, { payloadType: video ? this.#offer.h264Pt : this.#offer.opusPt, marker, seq: s.seq, timestamp: (s.tsBase + ts) >>> 0, ssrc: s.ssrc });
    s.seq = (s.seq + 1) & 0xffff;
    payload.copy(buf, 12);
    const port = video ? this.#offer.videoPort! : this.#offer.audioPort!;
    (video ? this.pairs.video : this.pairs.audio).rtp.send(buf, port, this.#offer.address);
    this.packets++;
    this.bytes += buf.length;
  }
}

export interface BenchCalleeOptions {
  readonly media: 'sink' | 'clip';
  /** Mode `clip`: the clip and the port range of the per-call pairs. */
  readonly clip?: Clip;
  readonly portMin?: number;
  readonly portMax?: number;
  /** Mode `clip`: start a call's media on its ACK (default), or only on startMedia(). */
  readonly autoStartMedia?: boolean;
}

export class BenchCallee {
  readonly #sock: dgram.Socket;
  readonly #opts: BenchCalleeOptions;
  readonly #sinks: { audio: BoundPortPair; video: BoundPortPair } | undefined;
  readonly #byUser = new Map<string, CalleeCall>();
  readonly #byCallId = new Map<string, CalleeCall>();
  readonly #waiters = new Map<string, ((t: number) => void)[]>();
  readonly #active = new Set<CallMedia>();
  #pump: NodeJS.Timeout | undefined;
  /** Requests that matched no call, responses, unparsable datagrams. */
  strays = 0;
  /** Media closed by BYE: their counters are kept here. */
  closedPackets = 0;

  private constructor(sock: dgram.Socket, opts: BenchCalleeOptions, sinks?: { audio: BoundPortPair; video: BoundPortPair }) {
    this.#sock = sock;
    this.#opts = opts;
    this.#sinks = sinks;
    sock.on('message', (msg, rinfo) => {
      const t = Number(process.hrtime.bigint()) / 1e6;
      this.#onMessage(msg, rinfo, t);
    });
  }

  static async open(opts: BenchCalleeOptions): Promise<BenchCallee> {
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r, j) => {
      sock.once('error', j);
      sock.bind(0, ADDR, () => r());
    });
    let sinks: { audio: BoundPortPair; video: BoundPortPair } | undefined;
    if (opts.media === 'sink') {
      const min = opts.portMin ?? 24000;
      const max = opts.portMax ?? 25999;
      sinks = { audio: await bindPortPair(ADDR, min, max), video: await bindPortPair(ADDR, min, max) };
      for (const p of [sinks.audio, sinks.video]) {
        p.rtp.on('message', () => undefined);
        p.rtcp.on('message', () => undefined);
      }
    }
    return new BenchCallee(sock, opts, sinks);
  }

  get port(): number {
    return this.#sock.address().port;
  }

  uri(user: string): string {
    return `sip:${user}@${ADDR}:${this.port}`;
  }

  get(user: string): CalleeCall | undefined {
    return this.#byUser.get(user);
  }

  get calls(): IterableIterator<CalleeCall> {
    return this.#byUser.values();
  }

  /** Media currently sending (mode `clip`). */
  get activeMedia(): number {
    return this.#active.size;
  }

  /** Packets sent so far by every call's media (open and closed). */
  get packetsSent(): number {
    let n = this.closedPackets;
    for (const m of this.#active) n += m.packets;
    return n;
  }

  mediaStats(): { packets: number; bytes: number; rtcpIn: number; keyframeRequests: number; keyframesHonoured: number } {
    const s = { packets: 0, bytes: 0, rtcpIn: 0, keyframeRequests: 0, keyframesHonoured: 0 };
    for (const c of this.#byUser.values()) {
      const m = c.media;
      if (!m) continue;
      s.packets += m.packets;
      s.bytes += m.bytes;
      s.rtcpIn += m.rtcpIn;
      s.keyframeRequests += m.keyframeRequests;
      s.keyframesHonoured += m.keyframesHonoured;
    }
    return s;
  }

  /** Resolves with the hrtime (ms) of the call's first `ev`; rejects after timeoutMs. */
  wait(user: string, ev: CalleeEvent, timeoutMs: number): Promise<number> {
    const c = this.#byUser.get(user);
    const have = c?.[ev];
    if (have !== undefined) return Promise.resolve(have);
    const key = `${user}\n${ev}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.#waiters.get(key);
        if (list) {
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) this.#waiters.delete(key);
        }
        reject(new Error(`no ${ev} for ${user} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (t: number): void => {
        clearTimeout(timer);
        resolve(t);
      };
      const list = this.#waiters.get(key) ?? [];
      list.push(done);
      this.#waiters.set(key, list);
    });
  }

  /** Drops a finished call's record (long runs). */
  forget(user: string): void {
    const c = this.#byUser.get(user);
    if (!c) return;
    if (c.retrans) clearTimeout(c.retrans);
    if (c.media) {
      this.#active.delete(c.media);
      c.media.close();
    }
    this.#byUser.delete(user);
    this.#byCallId.delete(c.sipCallId);
  }

  async close(): Promise<void> {
    if (this.#pump) clearInterval(this.#pump);
    this.#pump = undefined;
    for (const c of this.#byUser.values()) {
      if (c.retrans) clearTimeout(c.retrans);
      c.media?.close();
    }
    this.#active.clear();
    if (this.#sinks) await Promise.all([this.#sinks.audio.release(), this.#sinks.video.release()]);
    await new Promise<void>((r) => this.#sock.close(() => r()));
  }

  #fire(c: CalleeCall, ev: CalleeEvent, t: number): void {
    if (c[ev] === undefined) c[ev] = t;
    const key = `${c.user}\n${ev}`;
    const list = this.#waiters.get(key);
    if (!list) return;
    this.#waiters.delete(key);
    for (const fn of list) fn(c[ev]!);
  }

  #onMessage(buf: Buffer, rinfo: dgram.RemoteInfo, t: number): void {
    const m = parseSip(buf);
    if (!m || m.first.startsWith('SIP/2.0')) {
      this.strays++;
      return;
    }
    const method = m.first.split(' ', 1)[0]!;
    const callId = header(m, 'call-id') ?? '';
    const dest = { address: rinfo.address, port: rinfo.port };
    let c = this.#byCallId.get(callId);
    if (method === 'INVITE') {
      if (c) {
        c.inviteCount++;
        if (c.response200) this.#sock.send(c.response200, dest.port, dest.address);
        return;
      }
      const user = /^INVITE sips?:([^@;>\s]+)@/.exec(m.first)?.[1];
      if (!user) {
        this.strays++;
        return;
      }
      c = { user, sipCallId: callId, toTag: randomInt(1, 2 ** 47).toString(16), invite: t, inviteCount: 1, otherRequests: {}, dest };
      this.#byUser.set(user, c);
      this.#byCallId.set(callId, c);
      this.#respond(m, c, 100, 'Trying');
      if (this.#opts.media === 'clip') {
        const offer = parseOffer(m.body);
        CallMedia.open(this.#opts.clip!, offer, this.#opts.portMin ?? 24000, this.#opts.portMax ?? 25999).then(
          (media) => {
            c!.media = media;
            this.#answer(m, c!, offer, media.pairs.audio.rtpPort, media.pairs.video.rtpPort);
          },
          () => this.#respond(m, c!, 503, 'No Media Ports'),
        );
      } else {
        this.#answer(m, c, parseOffer(m.body), this.#sinks!.audio.rtpPort, this.#sinks!.video.rtpPort);
      }
      this.#fire(c, 'invite', t);
      return;
    }
    if (!c) {
      this.strays++;
      // An in-dialog request we do not know (e.g. after forget): still answer, so nothing retransmits.
      if (method !== 'ACK') this.#sock.send(this.#responseText(m, undefined, dest, 481, 'Call/Transaction Does Not Exist'), dest.port, dest.address);
      return;
    }
    if (method === 'ACK') {
      if (c.retrans) clearTimeout(c.retrans);
      c.retrans = undefined;
      if (c.media && this.#opts.autoStartMedia !== false) this.#startCallMedia(c);
      this.#fire(c, 'ack', t);
      return;
    }
    this.#respond(m, c, 200, 'OK');
    if (method === 'BYE') {
      if (c.retrans) clearTimeout(c.retrans);
      if (c.media) {
        this.#active.delete(c.media);
        this.closedPackets += c.media.packets;
        c.media.close();
      }
      this.#fire(c, 'bye', t);
    } else {
      c.otherRequests[method] = (c.otherRequests[method] ?? 0) + 1;
    }
  }

  #answer(m: ParsedSip, c: CalleeCall, offer: OfferInfo, audioPort: number, videoPort: number): void {
    const sdp = answerSdp(offer, audioPort, videoPort, randomInt(1, 2 ** 31));
    c.response200 = this.#responseText(m, c, c.dest, 200, 'OK', sdp);
    this.#sock.send(c.response200, c.dest.port, c.dest.address);
    // 2xx retransmission until the ACK (RFC 3261 §13.3.1.4), T1 = 500 ms doubling, 5 times at most.
    let interval = 500;
    let left = 5;
    const again = (): void => {
      if (c.ack !== undefined || c.bye !== undefined || left-- <= 0) return;
      this.#sock.send(c.response200!, c.dest.port, c.dest.address);
      interval = Math.min(interval * 2, 4000);
      c.retrans = setTimeout(again, interval);
    };
    c.retrans = setTimeout(again, interval);
  }

  /** A response to `m` (To tag for every status but 100). */
  #respond(m: ParsedSip, c: CalleeCall, status: number, reason: string): void {
    this.#sock.send(this.#responseText(m, status > 100 ? c : undefined, c.dest, status, reason), c.dest.port, c.dest.address);
  }

  #responseText(m: ParsedSip, c: CalleeCall | undefined, dest: { address: string; port: number }, status: number, reason: string, sdp?: string): string {
    const out = [`SIP/2.0 ${status} ${reason}`];
    let first = true;
    for (const [name, value] of m.headers) {
      if (name !== 'via') continue;
      // RFC 3581: fill in rport and received on the top Via.
      out.push(`Via: ${first ? value.replace(/;rport(?=;|$)/, `;rport=${dest.port};received=${dest.address}`) : value}`);
      first = false;
    }
    out.push(`From: ${header(m, 'from') ?? ''}`);
    const to = header(m, 'to') ?? '';
    out.push(`To: ${c && !/;tag=/i.test(to) ? `${to};tag=${c.toTag}` : to}`);
    out.push(`Call-ID: ${header(m, 'call-id') ?? ''}`, `CSeq: ${header(m, 'cseq') ?? ''}`);
    if (c && status >= 200 && status < 300) out.push(`Contact: <sip:${c.user}@${ADDR}:${this.port}>`);
    if (sdp) out.push('Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp);
    else out.push('Content-Length: 0', '', '');
    return out.join('\r\n');
  }

  /** Starts the media of every answered call, spread evenly over `spreadMs` (so frames interleave). */
  startMedia(spreadMs: number): void {
    const calls = [...this.#byUser.values()].filter((c) => c.media && !c.media.started && c.ack !== undefined && c.bye === undefined);
    calls.forEach((c, i) => {
      setTimeout(() => this.#startCallMedia(c), (i * spreadMs) / Math.max(1, calls.length));
    });
  }

  #startCallMedia(c: CalleeCall): void {
    if (!c.media || c.media.started || c.bye !== undefined) return;
    c.media.start(performance.now());
    this.#active.add(c.media);
    this.#ensurePump();
  }

  #ensurePump(): void {
    if (this.#pump) return;
    this.#pump = setInterval(() => {
      const now = performance.now();
      for (const m of this.#active) m.pump(now);
    }, 5);
  }
}
