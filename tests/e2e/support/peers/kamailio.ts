/**
 * Kamailio registrar/proxy for the SIP e2e tests (config: tests/peers/kamailio/kamailio.cfg).
 *
 *   const kam = await startKamailio({ port: 15060 });     // next free UDP+TCP port from 15060 upwards
 *   ... `sip:bob@127.0.0.1:${kam.port}` ...
 *   await kam.stop();
 *
 * Users alice/secret1, bob/secret2, carol/secret3, realm "spike"; REGISTER -> 401, other requests -> 407, qop=auth.
 * Registrations live in memory (a fresh Kamailio per test file starts empty). Ready once it answers an OPTIONS
 * probe over UDP with 200 and accepts a TCP connection.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { LOOPBACK, pickPort } from './ports';
import { PEERS_DIR, makeRunDir, pollUntil, requireBinary, spawnPeer, type PeerExit, type PeerProcess } from './process';

export const KAMAILIO_CFG = path.join(PEERS_DIR, 'kamailio', 'kamailio.cfg');
export const SIP_USERS = {
  alice: 'secret1',
  bob: 'secret2',
  carol: 'secret3',
} as const;
export type SipUser = keyof typeof SIP_USERS;
export const SIP_REALM = 'spike';

export interface StartKamailioOptions {
  /** First port to try (UDP and TCP must both be free); default 15060. */
  port?: number;
  readyTimeoutMs?: number;
  /** Hard lifetime bound, default 900 s. */
  maxLifetimeSec?: number;
}

export interface Kamailio {
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:<port>" */
  readonly hostport: string;
  readonly process: PeerProcess;
  logs(): string;
  /** Resolves when the newest REGISTER that Kamailio saved for `user` is a registration (not expires=0). */
  waitForRegistration(user: string, timeoutMs?: number): Promise<void>;
  /** Number of log lines matching `re` so far. */
  count(re: RegExp): number;
  stop(): Promise<PeerExit>;
}

/** Sends `OPTIONS sip:host:port` over UDP; resolves with the status line or null after timeoutMs. */
export function sipOptionsPing(host: string, port: number, timeoutMs = 500): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (v: string | null) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on('error', () => done(null));
    sock.on('message', (msg) => done(msg.toString('utf8').split('\r\n')[0] ?? ''));
    sock.bind(0, LOOPBACK, () => {
      const lport = sock.address().port;
      const branch = `z9hG4bK-probe-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
      const msg =
        `OPTIONS sip:${host}:${port} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${LOOPBACK}:${lport};branch=${branch};rport\r\n` +
        `From: <sip:probe@${LOOPBACK}>;tag=${Date.now()}\r\n` +
        `To: <sip:${host}:${port}>\r\n` +
        `Call-ID: probe-${branch}\r\n` +
        `CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
      sock.send(msg, port, host);
    });
  });
}

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export async function startKamailio(opts: StartKamailioOptions = {}): Promise<Kamailio> {
  const bin = requireBinary('kamailio');
  const port = await pickPort(opts.port ?? 15060, 'udp+tcp');
  const runDir = makeRunDir('kamailio');
  const proc = spawnPeer({
    name: `kamailio:${port}`,
    command: bin,
    args: [
      '-f', KAMAILIO_CFG,
      '-A', `SIP_PORT=${port}`,
      '-A', `SIP_ADDR=${LOOPBACK}`,
      '-DD', '-E', '-m', '64', '-M', '8',
      '-Y', runDir,
      '-P', path.join(runDir, 'kamailio.pid'),
    ],
    cwd: runDir,
    maxLifetimeSec: opts.maxLifetimeSec ?? 900,
    runDir,
  });
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  try {
    await Promise.race([
      pollUntil(async () => (await sipOptionsPing(LOOPBACK, port, 300))?.startsWith('SIP/2.0 200') && (await tcpConnects(LOOPBACK, port)), timeoutMs, `kamailio on ${LOOPBACK}:${port}`, 150),
      proc.exited.then((e) => {
        throw new Error(`kamailio exited during startup (code ${e.code}, signal ${e.signal})`);
      }),
    ]);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- kamailio output (last 40 lines) ---\n${proc.lines().slice(-40).join('\n')}`);
  }
  const count = (re: RegExp) => proc.lines().filter((l) => re.test(l)).length;
  return {
    host: LOOPBACK,
    port,
    hostport: `${LOOPBACK}:${port}`,
    process: proc,
    logs: () => proc.logs(),
    count,
    waitForRegistration: async (user, timeoutMs = 10_000) => {
      // the newest REGISTER log line of `user` must be a registration, not an unregistration (expires=0)
      const re = new RegExp(`REGISTERED ${user} contact=`);
      await pollUntil(
        () => {
          const last = [...proc.lines()].reverse().find((l) => re.test(l));
          return last !== undefined && !/expires=0\b/.test(last);
        },
        timeoutMs,
        `REGISTER of ${user} at kamailio`,
        50,
      );
    },
    stop: () => proc.stop({ graceMs: 3_000 }),
  };
}
