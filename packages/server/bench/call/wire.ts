/**
 * Wire timestamps for the call-setup benchmark: tshark on the loopback interface records the REST
 * requests to the server's HTTP port and the SIP datagrams to the callee's port, so the server's
 * own share (last segment of the `/call/startup` request in → INVITE out) can be told apart from
 * the HTTP client's and the callee's. Kernel capture timestamps, not the benchmark's clock; only
 * differences between packets are used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { killGroup, sleep, track } from './util.js';

export interface WireCall {
  /** REST callId (from the JSON body of the startup request). */
  readonly callId: string;
  /** Capture time (ms, epoch) of the request's last TCP segment. */
  readonly request: number;
  /** First segment of the HTTP response. */
  response?: number;
  /** First INVITE / ACK / BYE to the callee. */
  invite?: number;
  ack?: number;
}

export interface WireCapture {
  readonly proc: ChildProcess;
  /** Stops tshark (SIGINT, so it flushes) and parses what it saw. */
  stop(): Promise<Map<string, WireCall>>;
}

interface Pkt {
  t: number;
  tcpSrc: number;
  tcpDst: number;
  udpSrc: number;
  udpDst: number;
  payload: string;
}

function hexToText(hex: string): string {
  const h = hex.replace(/:/g, '');
  return Buffer.from(h, 'hex').toString('latin1');
}

/** Starts tshark pinned to CPU 1; resolves once it captures. undefined when tshark cannot run. */
export async function startWireCapture(httpPort: number, sipPort: number): Promise<WireCapture | undefined> {
  const proc = track(
    spawn(
      'taskset',
      [
        '-c', '1',
        'tshark', '-l', '-n', '-i', 'lo',
        '-o', 'tcp.desegment_tcp_streams:FALSE',
        '-f', `tcp port ${httpPort} or udp dst port ${sipPort}`,
        '-Y', 'tcp.len > 0 or udp',
        '-T', 'fields', '-E', 'separator=/t',
        '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'udp.srcport', '-e', 'udp.dstport',
        '-e', 'tcp.payload', '-e', 'udp.payload',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    ),
  );
  const pkts: Pkt[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const c = line.split('\t');
    const t = Number(c[0]) * 1000;
    if (!Number.isFinite(t)) return;
    pkts.push({ t, tcpSrc: Number(c[1]) || 0, tcpDst: Number(c[2]) || 0, udpSrc: Number(c[3]) || 0, udpDst: Number(c[4]) || 0, payload: c[5] || c[6] || '' });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 8000);
    proc.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('Capturing on')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ok) {
    killGroup(proc, 'SIGKILL');
    return undefined;
  }
  await sleep(300);
  return {
    proc,
    async stop() {
      await sleep(300);
      killGroup(proc, 'SIGINT');
      await Promise.race([exited, sleep(5000)]);
      killGroup(proc, 'SIGKILL');
      return parseWire(pkts, httpPort, sipPort);
    },
  };
}

function parseWire(pkts: Pkt[], httpPort: number, sipPort: number): Map<string, WireCall> {
  const calls = new Map<string, WireCall>();
  /** Per client connection (its port): the request being received. */
  const conns = new Map<number, { text: string; last: number }>();
  const bySipCallId = new Map<string, WireCall>();
  for (const p of pkts) {
    if (p.tcpDst === httpPort && p.payload) {
      const text = hexToText(p.payload);
      const cur = conns.get(p.tcpSrc);
      if (/^(POST|GET) /.test(text) || !cur) conns.set(p.tcpSrc, { text, last: p.t });
      else {
        cur.text += text;
        cur.last = p.t;
      }
    } else if (p.tcpSrc === httpPort && p.payload) {
      const req = conns.get(p.tcpDst);
      if (!req) continue;
      conns.delete(p.tcpDst);
      if (!req.text.startsWith('POST /rest-api/call/startup')) continue;
      const callId = /"callId"\s*:\s*"([^"]+)"/.exec(req.text)?.[1];
      if (!callId || calls.has(callId)) continue;
      calls.set(callId, { callId, request: req.last, response: p.t });
    } else if (p.udpDst === sipPort && p.payload) {
      const text = hexToText(p.payload);
      const sipCallId = /^(?:Call-ID|i)\s*:\s*(\S+)/im.exec(text)?.[1] ?? '';
      if (text.startsWith('INVITE ')) {
        const user = /^INVITE sips?:([^@;>\s]+)@/.exec(text)?.[1];
        const c = user ? calls.get(user) : undefined;
        if (c && c.invite === undefined) {
          c.invite = p.t;
          bySipCallId.set(sipCallId, c);
        }
      } else if (text.startsWith('ACK ')) {
        const c = bySipCallId.get(sipCallId);
        if (c && c.ack === undefined) c.ack = p.t;
      }
    }
  }
  return calls;
}
