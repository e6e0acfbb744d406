/**
 * Loopback UDP ports for feeding ffmpeg: free RTP/RTCP pairs for it to bind, and a check that it
 * has bound them (so that the first packets, a keyframe, are not sent into the void).
 */
import dgram from 'node:dgram';
import { readFile, readlink, readdir } from 'node:fs/promises';

/** Even RTP ports handed out by this process and not yet released. */
const held = new Set<number>();

function tryBind(port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

async function closeAll(sockets: (dgram.Socket | undefined)[]): Promise<void> {
  await Promise.all(sockets.map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined)));
}

/**
 * Finds `count` free pairs (even RTP port P, RTCP P+1) on 127.0.0.1. The ports are probed by
 * binding and closed again, so another process could still take them before ffmpeg binds;
 * ffmpeg then fails to start and the caller reports it. Call releasePorts() when done.
 *
 * @throws Error when no free pair is found.
 */
export async function allocatePortPairs(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let attempt = 0; attempt < 200 && out.length < count; attempt++) {
    const probe = await tryBind(0);
    if (!probe) continue;
    const p = probe.address().port;
    await closeAll([probe]);
    const even = p & ~1;
    if (even < 1024 || even + 1 > 65535 || held.has(even)) continue;
    const pair = await Promise.all([tryBind(even), tryBind(even + 1)]);
    await closeAll(pair);
    if (!pair[0] || !pair[1]) continue;
    held.add(even);
    out.push(even);
  }
  if (out.length < count) {
    releasePorts(out);
    throw new Error('no free loopback UDP port pair for ffmpeg');
  }
  return out;
}

/** Gives back ports from allocatePortPairs(). */
export function releasePorts(ports: readonly number[]): void {
  for (const p of ports) held.delete(p);
}

/** Socket inodes of UDP sockets bound to `port` (any local address), from /proc/net/udp{,6}. */
async function inodesOnPort(port: number): Promise<Set<string>> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1]!.endsWith(hex)) inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/** Socket inodes open in process `pid`. */
async function socketInodesOf(pid: number): Promise<Set<string>> {
  const out = new Set<string>();
  const dir = `/proc/${pid}/fd`;
  const fds = await readdir(dir).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`${dir}/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** True when process `pid` has a UDP socket bound to each of `ports`. Linux only. */
export async function processHasBound(pid: number, ports: readonly number[]): Promise<boolean> {
  const mine = await socketInodesOf(pid);
  if (mine.size === 0) return false;
  for (const port of ports) {
    const onPort = await inodesOnPort(port);
    if (![...onPort].some((i) => mine.has(i))) return false;
  }
  return true;
}

/** Whether /proc can tell which process holds a socket (false: fall back to a fixed delay). */
export async function canInspectSockets(): Promise<boolean> {
  return (await readFile('/proc/net/udp', 'utf8').catch(() => '')) !== '' && (await readdir(`/proc/${process.pid}/fd`).catch(() => [])).length > 0;
}
