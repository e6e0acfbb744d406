/**
 * A tiny RTP receiver for tests: UDP sockets on 127.0.0.1 that count what arrives, per port and payload type,
 * with an H.264 summary (SPS/PPS/IDR seen, frames by marker bit) and optional Annex-B reassembly so that
 * ffprobe can check the video decodes. No tshark needed.
 *
 *   const tap = await startRtpTap({ preferredPort: 16200, streams: 2 });   // ports[0] audio, ports[1] video (= ports[0] + 2)
 *   ... offer m=audio tap.ports[0], m=video tap.ports[1] ...
 *   await tap.waitFor((s) => s.port(tap.ports[1]).byPt[96] > 100, 5000);
 *   tap.stats().ports ...; await tap.stop();
 *
 * Each stream socket is on an even port p (RTP) with a second socket on p+1 (RTCP, counted separately).
 */
import dgram from 'node:dgram';
import { parseRtp } from './pcap';
import { LOOPBACK, pickPorts } from './ports';

export interface H264Summary {
  packets: number;
  /** RTP packets with the marker bit (= access units / frames). */
  frames: number;
  sps: number;
  pps: number;
  idr: number;
  fuA: number;
  stapA: number;
  single: number;
}

export interface PortStats {
  port: number;
  packets: number;
  bytes: number;
  /** packets per payload type */
  byPt: Record<number, number>;
  ssrcs: number[];
  /** "ip:port" of the senders */
  sources: string[];
  /** non-RTP datagrams on the RTP port */
  other: number;
  /** datagrams on port+1 */
  rtcp: number;
  firstAt: number | null;
  lastAt: number | null;
  /** Highest sequence minus lowest + 1 vs packets per SSRC, summed: rough loss estimate. */
  lostEstimate: number;
  h264: H264Summary;
}

export interface RtpTapStats {
  ports: PortStats[];
  port(p: number): PortStats;
  /** Packets of payload type `pt` over all ports. */
  total(pt?: number): number;
}

export interface StartRtpTapOptions {
  /** First port to try (even). Default 16200. */
  preferredPort?: number;
  /** Number of RTP streams (each takes p and p+1; streams are 2 apart). Default 2. */
  streams?: number;
  /** Payload types analysed as H.264. Default [96]. */
  h264PayloadTypes?: number[];
  /** Keep H.264 payloads for `h264AnnexB()` (at most this many packets per port). Default 0 (off). */
  keepH264Packets?: number;
}

export interface RtpTap {
  /** The RTP ports (ports[i] = first + 2 i). */
  readonly ports: number[];
  stats(): RtpTapStats;
  waitFor(pred: (s: RtpTapStats) => boolean, timeoutMs: number, what?: string): Promise<RtpTapStats>;
  /** Annex-B byte stream of the kept H.264 packets of `port` (needs keepH264Packets). */
  h264AnnexB(port: number): Buffer;
  /** Clears all counters. */
  reset(): void;
  /** The current counters as JSON text (for test attachments). */
  logs(): string;
  stop(): Promise<void>;
}

interface PortState {
  stats: PortStats;
  ssrc: Map<number, { min: number; max: number; n: number; cycles: number; last: number }>;
  sources: Set<string>;
  kept: { payload: Buffer }[];
}

function emptyStats(port: number): PortStats {
  return {
    port,
    packets: 0,
    bytes: 0,
    byPt: {},
    ssrcs: [],
    sources: [],
    other: 0,
    rtcp: 0,
    firstAt: null,
    lastAt: null,
    lostEstimate: 0,
    h264: { packets: 0, frames: 0, sps: 0, pps: 0, idr: 0, fuA: 0, stapA: 0, single: 0 },
  };
}

function countNal(h: H264Summary, nal: number): void {
  if (nal === 7) h.sps++;
  else if (nal === 8) h.pps++;
  else if (nal === 5) h.idr++;
}

function analyseH264(h: H264Summary, p: Buffer, marker: boolean): void {
  if (p.length < 1) return;
  h.packets++;
  if (marker) h.frames++;
  const t = p[0]! & 0x1f;
  if (t >= 1 && t <= 23) {
    h.single++;
    countNal(h, t);
  } else if (t === 24) {
    h.stapA++;
    let i = 1;
    while (i + 2 < p.length) {
      const n = p.readUInt16BE(i);
      countNal(h, p[i + 2]! & 0x1f);
      i += 2 + n;
    }
  } else if (t === 28 && p.length > 1) {
    h.fuA++;
    if (p[1]! & 0x80) countNal(h, p[1]! & 0x1f); // count a fragmented NAL once, at its start
  }
}

/** RFC 6184 depacketizer (single NAL, STAP-A, FU-A) into Annex B. */
export function h264RtpToAnnexB(payloads: Buffer[]): Buffer {
  const sc = Buffer.from([0, 0, 0, 1]);
  const out: Buffer[] = [];
  let fu: Buffer[] | null = null;
  for (const p of payloads) {
    if (p.length < 2) continue;
    const t = p[0]! & 0x1f;
    if (t >= 1 && t <= 23) out.push(sc, p);
    else if (t === 24) {
      let i = 1;
      while (i + 2 <= p.length) {
        const n = p.readUInt16BE(i);
        out.push(sc, p.subarray(i + 2, i + 2 + n));
        i += 2 + n;
      }
    } else if (t === 28) {
      const s = (p[1]! & 0x80) !== 0;
      const e = (p[1]! & 0x40) !== 0;
      if (s) fu = [Buffer.from([(p[0]! & 0xe0) | (p[1]! & 0x1f)])];
      if (fu) fu.push(p.subarray(2));
      if (e && fu) {
        out.push(sc, Buffer.concat(fu));
        fu = null;
      }
    }
  }
  return Buffer.concat(out);
}

function bind(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    s.once('error', reject);
    s.bind({ port, address: LOOPBACK, exclusive: true }, () => {
      s.removeListener('error', reject);
      try {
        s.setRecvBufferSize(2 * 1024 * 1024);
      } catch {
        /* capped by rmem_max */
      }
      resolve(s);
    });
  });
}

export async function startRtpTap(opts: StartRtpTapOptions = {}): Promise<RtpTap> {
  const streams = opts.streams ?? 2;
  const h264Pts = new Set(opts.h264PayloadTypes ?? [96]);
  const keep = opts.keepH264Packets ?? 0;
  const first = await pickPorts(opts.preferredPort ?? 16200, 'udp', { count: streams * 2, step: streams * 2 });
  const ports = Array.from({ length: streams }, (_, i) => first + 2 * i);
  const sockets: dgram.Socket[] = [];
  const state = new Map<number, PortState>();
  const init = () => {
    for (const p of ports) state.set(p, { stats: emptyStats(p), ssrc: new Map(), sources: new Set(), kept: [] });
  };
  init();
  try {
    for (const p of ports) {
      const rtp = await bind(p);
      const rtcp = await bind(p + 1);
      sockets.push(rtp, rtcp);
      rtp.on('message', (msg, rinfo) => {
        const st = state.get(p)!;
        const s = st.stats;
        const h = parseRtp(msg);
        if (!h) {
          s.other++;
          return;
        }
        const now = Date.now();
        s.packets++;
        s.bytes += msg.length;
        s.byPt[h.payloadType] = (s.byPt[h.payloadType] ?? 0) + 1;
        s.firstAt ??= now;
        s.lastAt = now;
        st.sources.add(`${rinfo.address}:${rinfo.port}`);
        const q = st.ssrc.get(h.ssrc);
        if (!q) st.ssrc.set(h.ssrc, { min: h.sequence, max: h.sequence, n: 1, cycles: 0, last: h.sequence });
        else {
          q.n++;
          if (h.sequence < q.last && q.last - h.sequence > 30000) q.cycles++;
          q.last = h.sequence;
          const ext = q.cycles * 65536 + h.sequence;
          if (ext > q.max) q.max = ext;
        }
        if (h264Pts.has(h.payloadType)) {
          const payload = msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
          analyseH264(s.h264, payload, h.marker);
          if (st.kept.length < keep) st.kept.push({ payload: Buffer.from(payload) });
        }
      });
      rtcp.on('message', () => {
        state.get(p)!.stats.rtcp++;
      });
    }
  } catch (err) {
    for (const s of sockets) s.close();
    throw err;
  }

  const snapshot = (): RtpTapStats => {
    const list = ports.map((p) => {
      const st = state.get(p)!;
      let lost = 0;
      for (const q of st.ssrc.values()) lost += Math.max(0, q.max - q.min + 1 - q.n);
      return {
        ...st.stats,
        byPt: { ...st.stats.byPt },
        h264: { ...st.stats.h264 },
        ssrcs: [...st.ssrc.keys()],
        sources: [...st.sources],
        lostEstimate: lost,
      };
    });
    return {
      ports: list,
      port: (p) => {
        const f = list.find((x) => x.port === p);
        if (!f) throw new Error(`rtp tap: not listening on ${p} (ports ${ports.join(', ')})`);
        return f;
      },
      total: (pt) => list.reduce((n, s) => n + (pt === undefined ? s.packets : (s.byPt[pt] ?? 0)), 0),
    };
  };

  let stopped = false;
  return {
    ports,
    stats: snapshot,
    waitFor: async (pred, timeoutMs, what) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = snapshot();
        if (pred(s)) return s;
        if (Date.now() > deadline) {
          throw new Error(`rtp tap: ${what ?? 'condition'} not met within ${timeoutMs} ms; got ${JSON.stringify(s.ports.map((p) => ({ port: p.port, byPt: p.byPt, rtcp: p.rtcp })))}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    h264AnnexB: (port) => {
      const st = state.get(port);
      if (!st) throw new Error(`rtp tap: not listening on ${port}`);
      return h264RtpToAnnexB(st.kept.map((k) => k.payload)); // arrival order (loopback does not reorder)
    },
    reset: init,
    logs: () => `rtp tap on ${ports.join(', ')}: ${JSON.stringify(snapshot().ports, null, 1)}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
