/**
 * Free-port picking for the peer processes. Every peer binds 127.0.0.1 only (baresip's RTP sockets are the
 * exception: baresip 1.0.0 binds them to 0.0.0.0, so RTP ranges are checked on the wildcard address).
 *
 * A port is "free" when this process can bind it right now; ports handed out by this module are remembered for
 * a while so that two helpers started back to back in one test do not get the same port before either has bound
 * it. There is still a window between the check and the peer's own bind (another user of the machine could take
 * the port); the helpers report the peer's bind error with its log if that happens.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Ports returned recently by this module (port -> time handed out). */
const handedOut = new Map<number, number>();
const HOLD_MS = 120_000;

function recentlyHandedOut(port: number): boolean {
  const t = handedOut.get(port);
  if (t === undefined) return false;
  if (Date.now() - t > HOLD_MS) {
    handedOut.delete(port);
    return false;
  }
  return true;
}

/** Forget a port (e.g. after its peer stopped) so it can be handed out again. */
export function releasePorts(...ports: number[]): void {
  for (const p of ports) handedOut.delete(p);
}

export function tcpFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function udpFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ port, address: host, exclusive: true }, () => sock.close(() => resolve(true)));
  });
}

export type PortKind = 'udp' | 'tcp' | 'udp+tcp' | 'udp-any';

async function isFree(port: number, kind: PortKind): Promise<boolean> {
  switch (kind) {
    case 'udp':
      return udpFree(port);
    case 'tcp':
      return tcpFree(port);
    case 'udp+tcp':
      return (await udpFree(port)) && (await tcpFree(port));
    case 'udp-any':
      return (await udpFree(port, '0.0.0.0')) && (await udpFree(port));
  }
}

export interface PickOptions {
  /** How many consecutive ports are needed (all must be free). Default 1. */
  count?: number;
  /** Step between candidate start ports. Default `count` (an even count keeps RTP ports even). */
  step?: number;
  /** How many candidates to try. Default 200. */
  attempts?: number;
}

/**
 * The first start port p >= preferred such that p .. p+count-1 are all free for `kind` and none was handed
 * out recently; marks them as handed out.
 */
export async function pickPorts(preferred: number, kind: PortKind, opts: PickOptions = {}): Promise<number> {
  const count = opts.count ?? 1;
  const step = opts.step ?? count;
  const attempts = opts.attempts ?? 200;
  for (let i = 0; i < attempts; i++) {
    const start = preferred + i * step;
    if (start + count - 1 > 65535) break;
    let ok = true;
    for (let p = start; p < start + count && ok; p++) {
      ok = !recentlyHandedOut(p) && (await isFree(p, kind));
    }
    if (ok) {
      const now = Date.now();
      for (let p = start; p < start + count; p++) handedOut.set(p, now);
      return start;
    }
  }
  throw new Error(`peers: no ${count} free ${kind} port(s) from ${preferred} upwards`);
}

/** A single free port >= preferred. */
export function pickPort(preferred: number, kind: PortKind): Promise<number> {
  return pickPorts(preferred, kind, { count: 1, step: 1 });
}
