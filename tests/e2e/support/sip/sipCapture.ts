/**
 * SIP "on the wire": captures loopback traffic to/from given ports with dumpcap (root, libpcap format) and
 * parses the SIP messages out of it (UDP datagrams; TCP segments concatenated per direction and split at SIP
 * start lines). This is what the sipcast UA really sent and received - independent of its own logging.
 *
 *   const cap = await startSipCapture([server SIP port]);
 *   ... call ...
 *   const msgs = await cap.stop();          // flushes and parses
 *   msgs.filter((m) => m.method === 'CANCEL')
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeRunDir, removeRunDir, requireBinary, spawnPeer, type PeerProcess } from '../peers/process';

export interface SipWireMessage {
  /** Capture time, ms since the epoch. */
  at: number;
  transport: 'udp' | 'tcp';
  src: string;
  dst: string;
  /** Request method, or '' for a response. */
  method: string;
  /** Response status, or 0 for a request. */
  status: number;
  startLine: string;
  /** CSeq header value (e.g. "2 INVITE"). */
  cseq: string;
  text: string;
}

export interface SipCapture {
  /** Stops dumpcap (flushing its file) and returns the SIP messages seen, in capture order. Idempotent. */
  stop(): Promise<SipWireMessage[]>;
  logs(): string;
}

/** One line per message: "12.345 udp 127.0.0.1:5080 -> 127.0.0.1:15060 INVITE sip:bob@... (CSeq 1 INVITE)". */
export function describeWire(msgs: readonly SipWireMessage[]): string {
  const t0 = msgs[0]?.at ?? 0;
  return msgs
    .map((m) => `${((m.at - t0) / 1000).toFixed(3)} ${m.transport} ${m.src} -> ${m.dst} ${m.startLine} (CSeq ${m.cseq})`)
    .join('\n');
}

/** The value of header `name` (long form, case-insensitive), or ''. */
export function header(msg: SipWireMessage, name: string): string {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im');
  return re.exec(msg.text.split('\r\n\r\n')[0] ?? '')?.[1]?.trim() ?? '';
}

export async function startSipCapture(ports: number[], opts: { readyTimeoutMs?: number } = {}): Promise<SipCapture> {
  const bin = requireBinary('dumpcap');
  const dir = makeRunDir('sip-capture');
  const file = path.join(dir, 'sip.pcap');
  const filter = ports.map((p) => `port ${p}`).join(' or ');
  const proc: PeerProcess = spawnPeer({
    name: `dumpcap(${filter})`,
    command: bin,
    // -P: libpcap format; -q: no packet counts; a small snaplen is not used: SIP messages can be large
    args: ['-i', 'lo', '-f', filter, '-P', '-q', '-w', file],
    cwd: dir,
    maxLifetimeSec: 900,
  });
  try {
    await proc.waitForLine(/Capturing on/, opts.readyTimeoutMs ?? 10_000, 'dumpcap "Capturing on"');
  } catch (err) {
    await proc.stop();
    removeRunDir(dir);
    throw new Error(`${(err as Error).message}\n${proc.logs()}`);
  }
  // the capture is armed when dumpcap says so; give the kernel filter a moment
  await new Promise((r) => setTimeout(r, 200));
  let result: Promise<SipWireMessage[]> | null = null;
  return {
    logs: () => proc.logs(),
    stop: () => {
      if (!result) {
        result = (async () => {
          // let the last packets of the test reach the capture buffer
          await new Promise((r) => setTimeout(r, 300));
          await proc.stop({ signal: 'SIGINT', graceMs: 3_000 });
          const buf = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
          removeRunDir(dir);
          return parseSipPcap(buf);
        })();
      }
      return result;
    },
  };
}

interface Segment {
  at: number;
  transport: 'udp' | 'tcp';
  src: string;
  dst: string;
  payload: Buffer;
}

function readSegments(buf: Buffer): Segment[] {
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xa1b23c4d) {
    le = true;
    nanos = true;
  } else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0x4d3cb2a1) {
    le = false;
    nanos = true;
  } else throw new Error(`sip capture: not a libpcap file (magic ${magic.toString(16)})`);
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  const out: Segment[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const data = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const at = sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3);
    let ip: Buffer;
    if (linkType === 1) {
      if (data.length < 14 || data.readUInt16BE(12) !== 0x0800) continue;
      ip = data.subarray(14);
    } else if (linkType === 113) {
      // Linux cooked capture
      if (data.length < 16 || data.readUInt16BE(14) !== 0x0800) continue;
      ip = data.subarray(16);
    } else if (linkType === 0 || linkType === 108) {
      ip = data.subarray(4);
    } else if (linkType === 101) {
      ip = data;
    } else {
      continue;
    }
    if (ip.length < 20 || ip[0]! >> 4 !== 4) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = Math.min(ip.readUInt16BE(2), ip.length);
    const proto = ip[9]!;
    const srcIp = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    const dstIp = `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
    const l4 = ip.subarray(ihl, total);
    if (proto === 17 && l4.length >= 8) {
      out.push({ at, transport: 'udp', src: `${srcIp}:${l4.readUInt16BE(0)}`, dst: `${dstIp}:${l4.readUInt16BE(2)}`, payload: l4.subarray(8) });
    } else if (proto === 6 && l4.length >= 20) {
      const doff = (l4[12]! >> 4) * 4;
      const payload = l4.subarray(doff);
      if (payload.length === 0) continue;
      out.push({ at, transport: 'tcp', src: `${srcIp}:${l4.readUInt16BE(0)}`, dst: `${dstIp}:${l4.readUInt16BE(2)}`, payload });
    }
  }
  return out;
}

const START_LINE = /^(?:([A-Z]+) \S+ SIP\/2\.0|SIP\/2\.0 (\d{3}) .*)$/;

function toMessage(seg: Omit<Segment, 'payload'>, text: string): SipWireMessage | null {
  const first = text.split('\r\n', 1)[0] ?? '';
  const m = START_LINE.exec(first);
  if (!m) return null;
  const msg: SipWireMessage = {
    at: seg.at,
    transport: seg.transport,
    src: seg.src,
    dst: seg.dst,
    method: m[1] ?? '',
    status: m[2] ? Number(m[2]) : 0,
    startLine: first,
    cseq: '',
    text,
  };
  msg.cseq = header(msg, 'CSeq');
  return msg;
}

export function parseSipPcap(buf: Buffer): SipWireMessage[] {
  const out: SipWireMessage[] = [];
  // TCP: per flow, a byte buffer cut into messages by Content-Length
  const flows = new Map<string, { buf: Buffer; at: number }>();
  for (const seg of readSegments(buf)) {
    if (seg.transport === 'udp') {
      const text = seg.payload.toString('utf8');
      const msg = toMessage(seg, text);
      if (msg) out.push(msg);
      continue;
    }
    const key = `${seg.src}>${seg.dst}`;
    const flow = flows.get(key) ?? { buf: Buffer.alloc(0), at: seg.at };
    flow.buf = Buffer.concat([flow.buf, seg.payload]);
    if (flow.buf.length === seg.payload.length) flow.at = seg.at;
    for (;;) {
      // skip keep-alive CRLFs
      while (flow.buf.length >= 2 && flow.buf[0] === 0x0d && flow.buf[1] === 0x0a) flow.buf = flow.buf.subarray(2);
      const headEnd = flow.buf.indexOf('\r\n\r\n');
      if (headEnd < 0) break;
      const head = flow.buf.subarray(0, headEnd).toString('utf8');
      const cl = /^(?:Content-Length|l)\s*:\s*(\d+)/im.exec(head);
      const len = headEnd + 4 + (cl ? Number(cl[1]) : 0);
      if (flow.buf.length < len) break;
      const msg = toMessage({ at: flow.at, transport: 'tcp', src: seg.src, dst: seg.dst }, flow.buf.subarray(0, len).toString('utf8'));
      if (msg) out.push(msg);
      flow.buf = flow.buf.subarray(len);
      flow.at = seg.at;
    }
    flows.set(key, flow);
  }
  return out;
}
