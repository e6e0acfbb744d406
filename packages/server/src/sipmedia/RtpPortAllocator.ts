/**
 * Binds RTP/RTCP socket pairs (even RTP port, RTCP = RTP + 1, RFC 3550 §11) from a port range.
 *
 * The search starts at a random pair so that concurrent calls and restarts do not all race for
 * the first ports, skips ports this process already holds (a second session must never get a
 * pair that is still open or being bound), and moves on when the OS reports EADDRINUSE (another
 * process holds it).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';

/** An RTP socket and its RTCP socket, both bound. */
export interface BoundPortPair {
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** Closes both sockets and frees the pair for this process. Idempotent. */
  release(): Promise<void>;
}

/** RTP ports (even) held by this process, across all sessions. */
const held = new Set<number>();

/**
 * Binds a free pair in [portMin, portMax] on `bindAddress`.
 *
 * @throws RangeError for a bad range; Error when every pair is taken; other bind errors as is.
 */
export async function bindPortPair(bindAddress: string, portMin: number, portMax: number): Promise<BoundPortPair> {
  const first = portMin + (portMin & 1);
  if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || first < 1024 || portMax > 65535 || first + 1 > portMax) {
    throw new RangeError(`RTP port range ${portMin}-${portMax} holds no even/odd pair above 1023`);
  }
  const family = isIP(bindAddress) === 6 ? 'udp6' : 'udp4';
  const pairs = Math.floor((portMax - first + 1) / 2);
  const start = Math.floor(Math.random() * pairs);
  for (let i = 0; i < pairs; i++) {
    const rtpPort = first + ((start + i) % pairs) * 2;
    if (held.has(rtpPort)) continue;
    held.add(rtpPort); // before the first await: concurrent callers skip it
    const rtp = dgram.createSocket({ type: family });
    const rtcp = dgram.createSocket({ type: family });
    try {
      await bind(rtp, rtpPort, bindAddress);
      await bind(rtcp, rtpPort + 1, bindAddress);
    } catch (err) {
      await Promise.all([closeQuietly(rtp), closeQuietly(rtcp)]);
      held.delete(rtpPort);
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw err;
    }
    let released: Promise<void> | undefined;
    return {
      rtp,
      rtcp,
      rtpPort,
      rtcpPort: rtpPort + 1,
      release() {
        released ??= Promise.all([closeQuietly(rtp), closeQuietly(rtcp)]).then(() => {
          held.delete(rtpPort);
        });
        return released;
      },
    };
  }
  throw new Error(`no free RTP port pair in ${portMin}-${portMax} on ${bindAddress}`);
}

function bind(sock: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}

function closeQuietly(sock: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // never bound or already closed
    }
  });
}
