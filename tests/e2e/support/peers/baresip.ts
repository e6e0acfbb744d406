/**
 * baresip 1.0.0 as a scripted softphone callee (templates: tests/peers/baresip/).
 *
 *   const bob = await startBaresip({ name: 'bob', registrar: { host: kam.host, port: kam.port, transport: 'udp' },
 *                                    audioCodecs: ['opus', 'PCMU', 'PCMA'] });   // resolves once registered
 *   ... call sip:bob@127.0.0.1:<kam.port> ... bob answers and sends H.264 (PT as offered) + audio ...
 *   await bob.ctrl('/hangup');       // callee hangs up (BYE)
 *   await bob.stop();
 *
 * Without `registrar` the account does not register: call `bob.directUri` (sip:bob@127.0.0.1:<sipPort>).
 * answerMode: 'auto' answers at once; 'manual' rings (180) until `ctrl('accept')` or `ctrl('hangup')` (486);
 * 'busy' rejects every incoming call with 486 ("Rejected") right after the 180 (done through ctrl_tcp:
 * baresip 1.0.0 has no setting for it). Media: a video-only mp4 encoded to H.264 by libx264 (SPS/PPS/IDR at call
 * start, then every ~10 s), a 440 Hz WAV tone as audio; nothing is played or displayed.
 *
 * Ports: SIP UDP+TCP on sipPort, baresip also binds TCP sipPort+1 (so sipPort and sipPort+1 must be free), ctrl_tcp
 * on ctrlPort; RTP/RTCP in rtpPorts, bound on 0.0.0.0 (not configurable in baresip 1.0.0).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SIP_USERS } from './kamailio';
import { ensurePeerMedia } from './media';
import { LOOPBACK, pickPort, pickPorts } from './ports';
import { PEERS_DIR, makeRunDir, removeRunDir, requireBinary, spawnPeer, type PeerExit, type PeerProcess } from './process';

export const BARESIP_TEMPLATE_DIR = path.join(PEERS_DIR, 'baresip');
export const BARESIP_MODULE_DIR = '/usr/lib/baresip/modules';

export type BaresipAudioCodec = 'opus' | 'PCMU' | 'PCMA';
const CODEC_NAMES: Record<BaresipAudioCodec, string> = {
  opus: 'opus/48000/2',
  PCMU: 'PCMU/8000',
  PCMA: 'PCMA/8000',
};

export interface StartBaresipOptions {
  /** Account user; default "bob". The password defaults to the Kamailio one for alice/bob/carol. */
  name?: string;
  password?: string;
  /** Register here. Omit (or null) for the variant that does not register (direct calls). */
  registrar?: { host: string; port: number; transport?: 'udp' | 'tcp' } | null;
  /** Transport of the account when there is no registrar (direct calls). Default udp. */
  transport?: 'udp' | 'tcp';
  /** Audio codecs baresip may answer with, default ['opus', 'PCMU', 'PCMA']. */
  audioCodecs?: BaresipAudioCodec[];
  /** Default 'auto'. */
  answerMode?: 'auto' | 'manual' | 'busy';
  /** Preferred SIP port (UDP+TCP; +1 TCP also used), default 15070. The next free pair is used if taken. */
  sipPort?: number;
  /** Preferred ctrl_tcp port, default 15080. */
  ctrlPort?: number;
  /** Preferred RTP port range [min, max] (inclusive), default [20100, 20139]; shifted up as a block if busy. */
  rtpPorts?: [number, number];
  /** baresip -t: quit after this many seconds. Default 600. */
  maxLifetimeSec?: number;
  /** Time allowed for start + registration. Default 15000 ms. */
  readyTimeoutMs?: number;
}

export interface BaresipEvent {
  event: true;
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  /** Date.now() when received. */
  at: number;
}

export interface BaresipResponse {
  response: true;
  ok: boolean;
  data: string;
  token?: string;
}

export interface Baresip {
  readonly name: string;
  readonly sipPort: number;
  readonly ctrlPort: number;
  readonly rtpPorts: [number, number];
  readonly transport: 'udp' | 'tcp';
  /** sip:<name>@<registrar host:port> when registered, else the direct URI. */
  readonly aor: string;
  /** sip:<name>@127.0.0.1:<sipPort>[;transport=tcp]: where a direct INVITE goes. */
  readonly directUri: string;
  readonly process: PeerProcess;
  /** ctrl_tcp events received so far (CALL_INCOMING, CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, REGISTER_OK, ...). */
  events(): readonly BaresipEvent[];
  /** First event (past or future) of `type` matching `pred`. */
  waitForEvent(type: string, timeoutMs?: number, pred?: (e: BaresipEvent) => boolean): Promise<BaresipEvent>;
  /**
   * Sends a command over ctrl_tcp: "/hangup", "hangup", "accept", "dial sip:alice@...", ... (a leading "/" is
   * optional; the text after the first space is the params). Resolves with baresip's response.
   */
  ctrl(command: string, timeoutMs?: number): Promise<BaresipResponse>;
  logs(): string;
  /** SIGTERM (baresip unregisters and hangs up), then SIGKILL after 5 s. */
  stop(): Promise<PeerExit>;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (all, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`baresip template: no value for ${all}`);
    return v;
  });
}

/** ctrl_tcp connection: netstring-framed JSON, events broadcast to every connection. */
class CtrlConnection {
  private buf = Buffer.alloc(0);
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private tokenSeq = 0;
  readonly events: BaresipEvent[] = [];
  private readonly eventWaiters = new Set<(e: BaresipEvent) => void>();
  closed = false;

  private constructor(private readonly sock: net.Socket, private readonly log: (l: string) => void) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('close', () => {
      this.closed = true;
    });
    sock.on('error', (err) => this.log(`[ctrl] socket error: ${err.message}`));
  }

  static connect(port: number, log: (l: string) => void, timeoutMs: number): Promise<CtrlConnection> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: LOOPBACK, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`baresip ctrl_tcp 127.0.0.1:${port}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new CtrlConnection(sock, log));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buf.subarray(0, colon).toString('ascii'));
      if (!Number.isInteger(len)) {
        this.log(`[ctrl] bad netstring, dropping buffer`);
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.buf.length < colon + 1 + len + 1) return;
      const text = this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.buf = this.buf.subarray(colon + 1 + len + 1);
      this.log(`[ctrl] <- ${text}`);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (msg.event === true) {
        const ev = { ...(msg as unknown as BaresipEvent), at: Date.now() };
        this.events.push(ev);
        for (const w of this.eventWaiters) w(ev);
      } else if (msg.response === true) {
        const token = typeof msg.token === 'string' ? msg.token : '';
        const cb = this.pending.get(token);
        if (cb) {
          this.pending.delete(token);
          cb(msg as unknown as BaresipResponse);
        }
      }
    }
  }

  onEvent(cb: (e: BaresipEvent) => void): () => void {
    this.eventWaiters.add(cb);
    return () => this.eventWaiters.delete(cb);
  }

  send(command: string, params: string, timeoutMs: number): Promise<BaresipResponse> {
    if (this.closed) return Promise.reject(new Error('baresip ctrl_tcp connection is closed'));
    const token = `t${++this.tokenSeq}`;
    const body = Buffer.from(JSON.stringify({ command, params, token }), 'utf8');
    this.log(`[ctrl] -> ${command} ${params}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ctrl "${command} ${params}": no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sock.write(Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

export async function startBaresip(opts: StartBaresipOptions = {}): Promise<Baresip> {
  const bin = requireBinary('baresip');
  const media = await ensurePeerMedia(['baresip']);
  const name = opts.name ?? 'bob';
  const password = opts.password ?? (SIP_USERS as Record<string, string>)[name] ?? '';
  const registrar = opts.registrar ?? null;
  const transport = registrar?.transport ?? opts.transport ?? 'udp';
  const answerMode = opts.answerMode ?? 'auto';
  const codecs = opts.audioCodecs ?? ['opus', 'PCMU', 'PCMA'];
  if (codecs.length === 0) throw new Error('startBaresip: audioCodecs must not be empty');

  const sipPort = await pickPorts(opts.sipPort ?? 15070, 'udp+tcp', { count: 2, step: 2 });
  const ctrlPort = await pickPort(opts.ctrlPort ?? 15080, 'tcp');
  const [rtpMin0, rtpMax0] = opts.rtpPorts ?? [20100, 20139];
  const rtpCount = rtpMax0 - rtpMin0 + 1;
  if (rtpCount < 8) throw new Error('startBaresip: rtpPorts needs at least 8 ports');
  const rtpMin = await pickPorts(rtpMin0, 'udp-any', { count: rtpCount, step: rtpCount, attempts: 40 });
  const rtpPorts: [number, number] = [rtpMin, rtpMin + rtpCount - 1];

  const runDir = makeRunDir(`baresip-${name}`);
  const values: Record<string, string> = {
    SIP_PORT: String(sipPort),
    CTRL_PORT: String(ctrlPort),
    RTP_MIN: String(rtpPorts[0]),
    RTP_MAX: String(rtpPorts[1]),
    WAV: media.wav,
    MP4: media.mp4,
    MODULE_PATH: BARESIP_MODULE_DIR,
    USER: name,
    PASSWORD: password,
    REGISTRAR_HOST: registrar?.host ?? LOOPBACK,
    REGISTRAR_PORT: String(registrar?.port ?? 0),
    TRANSPORT: transport,
    ANSWERMODE: answerMode === 'auto' ? 'auto' : 'manual',
    AUDIO_CODECS: codecs.map((c) => CODEC_NAMES[c]).join(','),
  };
  try {
    writeFileSync(path.join(runDir, 'config'), fill(readFileSync(path.join(BARESIP_TEMPLATE_DIR, 'config.in'), 'utf8'), values));
    const accountsTemplate = registrar ? 'accounts-register.in' : 'accounts-direct.in';
    writeFileSync(path.join(runDir, 'accounts'), fill(readFileSync(path.join(BARESIP_TEMPLATE_DIR, accountsTemplate), 'utf8'), values));
  } catch (err) {
    removeRunDir(runDir);
    throw err;
  }

  const maxLifetimeSec = opts.maxLifetimeSec ?? 600;
  const proc = spawnPeer({
    name: `baresip-${name}:${sipPort}`,
    command: bin,
    args: ['-f', runDir, '-t', String(maxLifetimeSec), '-v'],
    cwd: runDir,
    maxLifetimeSec: maxLifetimeSec + 10,
    runDir,
  });
  const ctrlLog: string[] = [];
  const log = (l: string) => ctrlLog.push(l);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + readyTimeoutMs;
  let ctrl: CtrlConnection | null = null;
  try {
    await proc.waitForLine(/baresip is ready/, readyTimeoutMs, '"baresip is ready"');
    const bad = proc.lines().find((l) => /Address already in use/i.test(l));
    if (bad) throw new Error(`baresip start problem: ${bad}`);
    ctrl = await CtrlConnection.connect(ctrlPort, log, Math.max(1000, deadline - Date.now()));
    if (registrar) {
      // "bob@127.0.0.1: {0/UDP/v4} 200 OK (kamailio (5.6.3 (x86_64/linux))) [1 binding]", or a failure status
      const m = await proc.waitForLine(
        /\{\d+\/(UDP|TCP)\/v4\} (\d{3}) .*|reg(istration)? failed.*/i,
        Math.max(1000, deadline - Date.now()),
        `registration of ${name} (200 OK ... binding)`,
      );
      if (m[2] !== '200' || !/binding/.test(m[0])) throw new Error(`baresip registration failed: ${m[0]}`);
    }
  } catch (err) {
    ctrl?.close();
    await proc.stop();
    throw new Error(`startBaresip(${name}): ${(err as Error).message}\n--- baresip output (last 60 lines) ---\n${proc.lines().slice(-60).join('\n')}`);
  }
  const conn = ctrl;

  if (answerMode === 'busy') {
    conn.onEvent((e) => {
      if (e.type === 'CALL_INCOMING') {
        void conn.send('hangup', '', 5_000).catch((err: unknown) => log(`[ctrl] busy reject failed: ${(err as Error).message}`));
      }
    });
  }

  const directUri = `sip:${name}@${LOOPBACK}:${sipPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  let stopping: Promise<PeerExit> | null = null;
  return {
    name,
    sipPort,
    ctrlPort,
    rtpPorts,
    transport,
    aor: registrar ? `sip:${name}@${registrar.host}:${registrar.port}` : directUri,
    directUri,
    process: proc,
    events: () => conn.events,
    waitForEvent: (type, timeoutMs = 10_000, pred = () => true) => {
      const seen = conn.events.find((e) => e.type === type && pred(e));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const off = conn.onEvent((e) => {
          if (e.type === type && pred(e)) {
            off();
            clearTimeout(timer);
            resolve(e);
          }
        });
        const timer = setTimeout(() => {
          off();
          reject(new Error(`baresip ${name}: no ${type} event within ${timeoutMs} ms (events: ${conn.events.map((e) => e.type).join(', ') || 'none'})`));
        }, timeoutMs);
      });
    },
    ctrl: (command, timeoutMs = 5_000) => {
      const text = command.trim().replace(/^\//, '');
      const sp = text.indexOf(' ');
      const cmd = sp < 0 ? text : text.slice(0, sp);
      const params = sp < 0 ? '' : text.slice(sp + 1).trim();
      return conn.send(cmd, params, timeoutMs);
    },
    logs: () => `${proc.logs()}\n${ctrlLog.join('\n')}`,
    stop: () => {
      if (!stopping) {
        stopping = proc.stop({ graceMs: 5_000 }).finally(() => conn.close());
      }
      return stopping;
    },
  };
}
