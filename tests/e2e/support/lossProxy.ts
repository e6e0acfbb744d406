/**
 * A UDP proxy, living in the test process, that puts itself between Chromium and the sipcast server's
 * WebRTC socket and drops a fraction of the server->browser video RTP packets.
 *
 * How media is diverted: `proxy.routePage(page, wsPort)` intercepts the page's WebSocket to the server with
 * Playwright's `page.routeWebSocket`, forwards every frame unchanged in both directions, except the server's
 * `setRemoteSDP` answer: there each UDP `a=candidate` (and the matching m-line port / c-line) is rewritten to a
 * port of this proxy. Chromium then sends its STUN checks, DTLS and RTCP to the proxy, which relays them to the
 * server's real address from one upstream socket per browser address, and relays the server's replies back.
 *
 * What is dropped: only SRTP packets from the server whose cleartext RTP header says version 2 and a payload
 * type of the answer's video codec (RTX/RED/FEC excluded). STUN (first byte 0-3), DTLS (20-63) and RTCP
 * (second byte 192-223) are never dropped, and nothing from the browser is dropped.
 */
import dgram from 'node:dgram';
import type { Page } from '@playwright/test';

export interface LossProxyOptions {
  /** Fraction of server->browser video RTP packets to drop, 0..1. Can be changed later with setDropRate. */
  dropRate: number;
  /** Seed of the drop decision PRNG (reproducible runs). */
  seed?: number;
}

export interface LossProxyStats {
  /** Video RTP packets dropped (server->browser). */
  dropped: number;
  /** Dropped packets whose (SSRC, seq) later passed through the proxy again: retransmitted by the server. */
  retransmittedAfterDrop: number;
  /** Server->browser packets by class (forwarded + dropped). */
  toBrowser: { stun: number; dtls: number; rtcp: number; videoRtp: number; otherRtp: number; other: number };
  /** Browser->server packets by class. */
  toServer: { stun: number; dtls: number; rtcp: number; rtp: number; other: number };
  /** Payload types treated as video (from the answers seen). */
  videoPayloadTypes: number[];
  /** Server transport addresses that were proxied, and the proxy port each was replaced with. */
  mappings: { server: string; proxyPort: number }[];
  /** Names of the signalling messages seen, in order, "<" from server and ">" from page. */
  signalling: string[];
}

type PacketClass = 'stun' | 'dtls' | 'rtcp' | 'rtp' | 'other';

export function classify(msg: Buffer): PacketClass {
  if (msg.length === 0) return 'other';
  const b0 = msg[0]!;
  if (b0 <= 3) return 'stun';
  if (b0 >= 20 && b0 <= 63) return 'dtls';
  if (b0 >= 128 && b0 <= 191 && msg.length >= 12) {
    // RFC 5761: with rtcp-mux, RTCP packet types 192..223 occupy the second byte.
    const b1 = msg[1]!;
    if (b1 >= 192 && b1 <= 223) return 'rtcp';
    return 'rtp';
  }
  return 'other';
}

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NON_PRIMARY_VIDEO_CODECS = new Set(['rtx', 'red', 'ulpfec', 'flexfec-03', 'flexfec']);

/** Payload types of the primary video codec(s) in an SDP. */
export function videoPayloadTypes(sdp: string): number[] {
  const out: number[] = [];
  let inVideo = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      inVideo = line.startsWith('m=video');
      continue;
    }
    if (!inVideo) continue;
    const m = /^a=rtpmap:(\d+) ([^/\s]+)\//.exec(line);
    if (m && !NON_PRIMARY_VIDEO_CODECS.has(m[2]!.toLowerCase())) out.push(Number(m[1]));
  }
  return out;
}

class Relay {
  readonly front: dgram.Socket;
  /** One upstream socket per browser address, so the server sees each browser socket as a distinct peer. */
  private readonly backs = new Map<string, dgram.Socket>();
  port = 0;

  constructor(
    private readonly owner: LossProxy,
    readonly serverHost: string,
    readonly serverPort: number,
  ) {
    this.front = dgram.createSocket('udp4');
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.front.once('error', reject);
      this.front.bind(0, '127.0.0.1', () => {
        this.front.off('error', reject);
        resolve();
      });
    });
    this.front.on('error', () => undefined);
    this.port = this.front.address().port;
    this.front.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let back = this.backs.get(key);
      if (!back) {
        back = dgram.createSocket('udp4');
        back.on('error', () => undefined);
        back.on('message', (reply) => {
          if (this.owner.fromServer(reply)) this.front.send(reply, rinfo.port, rinfo.address);
        });
        back.bind(0, '127.0.0.1');
        this.backs.set(key, back);
      }
      this.owner.fromBrowser(msg);
      back.send(msg, this.serverPort, this.serverHost);
    });
  }

  close(): void {
    for (const s of this.backs.values()) s.close();
    this.backs.clear();
    this.front.close();
  }
}

export class LossProxy {
  private dropRate: number;
  private readonly random: () => number;
  private readonly relays = new Map<string, Relay>();
  private readonly videoPts = new Set<number>();
  private readonly droppedKeys = new Set<string>();
  readonly seed: number;
  readonly stats: LossProxyStats = {
    dropped: 0,
    retransmittedAfterDrop: 0,
    toBrowser: { stun: 0, dtls: 0, rtcp: 0, videoRtp: 0, otherRtp: 0, other: 0 },
    toServer: { stun: 0, dtls: 0, rtcp: 0, rtp: 0, other: 0 },
    videoPayloadTypes: [],
    mappings: [],
    signalling: [],
  };

  constructor(opts: LossProxyOptions) {
    this.dropRate = opts.dropRate;
    this.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.random = prng(this.seed);
  }

  setDropRate(rate: number): void {
    this.dropRate = rate;
  }

  /** Proxy ports handed to the browser. */
  proxyPorts(): number[] {
    return [...this.relays.values()].map((r) => r.port);
  }

  /** Called for every packet the server sends towards the browser; returns false to drop it. */
  fromServer(msg: Buffer): boolean {
    const cls = classify(msg);
    if (cls !== 'rtp') {
      this.stats.toBrowser[cls] += 1;
      return true;
    }
    const pt = msg[1]! & 0x7f;
    if (!this.videoPts.has(pt)) {
      this.stats.toBrowser.otherRtp += 1;
      return true;
    }
    this.stats.toBrowser.videoRtp += 1;
    const key = `${msg.readUInt32BE(8)}:${msg.readUInt16BE(2)}`;
    if (this.droppedKeys.has(key)) {
      this.droppedKeys.delete(key);
      this.stats.retransmittedAfterDrop += 1;
    }
    if (this.dropRate > 0 && this.random() < this.dropRate) {
      this.stats.dropped += 1;
      this.droppedKeys.add(key);
      return false;
    }
    return true;
  }

  fromBrowser(msg: Buffer): void {
    this.stats.toServer[classify(msg)] += 1;
  }

  private async relayFor(host: string, port: number): Promise<Relay> {
    const key = `${host}:${port}`;
    let relay = this.relays.get(key);
    if (!relay) {
      relay = new Relay(this, host, port);
      this.relays.set(key, relay);
      await relay.start();
      this.stats.mappings.push({ server: key, proxyPort: relay.port });
    }
    return relay;
  }

  /** Rewrites an answer so every UDP/IPv4 candidate points at a proxy port; drops other candidates. */
  async rewriteAnswer(sdp: string): Promise<string> {
    const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
    const lines = sdp.split(/\r?\n/);
    for (const pt of videoPayloadTypes(sdp)) this.videoPts.add(pt);
    this.stats.videoPayloadTypes = [...this.videoPts];
    const portMap = new Map<string, number>(); // "host:port" -> proxy port
    const out: string[] = [];
    for (const line of lines) {
      const m = /^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)(.*)$/i.exec(line);
      if (!m) {
        out.push(line);
        continue;
      }
      const [, foundation, component, transport, priority, host, port] = m;
      if (transport!.toLowerCase() !== 'udp' || !/^\d+\.\d+\.\d+\.\d+$/.test(host!)) continue;
      const relay = await this.relayFor(host!, Number(port));
      portMap.set(`${host}:${port}`, relay.port);
      out.push(`a=candidate:${foundation} ${component} udp ${priority} 127.0.0.1 ${relay.port} typ host`);
    }
    if (portMap.size === 0) throw new Error(`LossProxy: no UDP IPv4 candidate in the answer:\n${sdp}`);
    // Keep the m-line port / c-line consistent with the candidates (some stacks read them).
    let sectionHost = '';
    const sessionC = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1] ?? '';
    for (let i = 0; i < out.length; i++) {
      const line = out[i]!;
      if (line.startsWith('m=')) {
        // Peek at this section's c= line.
        sectionHost = sessionC;
        for (let j = i + 1; j < out.length && !out[j]!.startsWith('m='); j++) {
          const c = /^c=IN IP4 (\S+)/.exec(out[j]!);
          if (c) sectionHost = c[1]!;
        }
        const mm = /^(m=\S+ )(\d+)( .*)$/.exec(line);
        const mapped = mm ? portMap.get(`${sectionHost}:${mm[2]}`) : undefined;
        if (mm && mapped !== undefined) out[i] = `${mm[1]}${mapped}${mm[3]}`;
      } else if (/^c=IN IP4 /.test(line)) {
        const host = line.slice('c=IN IP4 '.length).trim();
        if ([...portMap.keys()].some((k) => k.startsWith(`${host}:`))) out[i] = 'c=IN IP4 127.0.0.1';
      }
    }
    return out.join(eol);
  }

  private async rewriteServerFrame(frame: string | Buffer): Promise<string | Buffer> {
    if (typeof frame !== 'string') return frame;
    let msg: { message?: unknown; data?: unknown };
    try {
      msg = JSON.parse(frame) as typeof msg;
    } catch {
      return frame;
    }
    this.stats.signalling.push(`<${String(msg.message)}`);
    if (msg.message !== 'setRemoteSDP' || !Array.isArray(msg.data) || typeof msg.data[1] !== 'string') return frame;
    msg.data[1] = await this.rewriteAnswer(msg.data[1]);
    return JSON.stringify(msg);
  }

  /**
   * Route the page's WebSocket(s) to ws://…:<wsPort> through this proxy. Call before the page connects.
   */
  async routePage(page: Page, wsPort: number): Promise<void> {
    await page.routeWebSocket(
      (url) => url.port === String(wsPort),
      (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((frame) => {
          if (typeof frame === 'string') {
            try {
              this.stats.signalling.push(`>${String((JSON.parse(frame) as { message?: unknown }).message)}`);
            } catch {
              /* not JSON */
            }
          }
          server.send(frame);
        });
        // Keep the server's frame order although the answer rewrite is asynchronous.
        let chain = Promise.resolve();
        server.onMessage((frame) => {
          chain = chain
            .then(async () => ws.send(await this.rewriteServerFrame(frame)))
            .catch((err: unknown) => {
              this.stats.signalling.push(`!rewrite failed: ${String(err)}`);
              ws.send(frame);
            });
        });
      },
    );
  }

  close(): void {
    for (const r of this.relays.values()) r.close();
    this.relays.clear();
  }

  describe(): string {
    const s = this.stats;
    return (
      `seed=${this.seed} dropped=${s.dropped} retransmittedAfterDrop=${s.retransmittedAfterDrop} ` +
      `toBrowser=${JSON.stringify(s.toBrowser)} toServer=${JSON.stringify(s.toServer)} ` +
      `videoPTs=${s.videoPayloadTypes.join(',')} mappings=${JSON.stringify(s.mappings)}`
    );
  }
}
