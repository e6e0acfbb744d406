/**
 * nginx + libnginx-mod-rtmp as the RTMP server (config template: tests/peers/nginx/nginx.conf.in).
 *
 *   const rtmp = await startNginxRtmp({ port: 11935 });
 *   rtmp.url('mystream')                 // rtmp://127.0.0.1:<port>/live/mystream
 *   await rtmp.waitForStream('mystream', 10_000);   // published (per the /stat page)
 *   await rtmp.stop();
 *
 * One process (master_process off), application "live", publish/play allowed from 127.0.0.1 only,
 * recording off unless `record: true` (then FLV files in `recordDir`, listed by `recordings()`).
 * Accepts H.264 + AAC / G.711 (µ-law, A-law) / no audio; NOT opus (FLV has no opus with this ffmpeg/nginx-rtmp).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { LOOPBACK, pickPort } from './ports';
import { PEERS_DIR, makeRunDir, pollUntil, requireBinary, spawnPeer, type PeerExit, type PeerProcess } from './process';

export const NGINX_TEMPLATE = path.join(PEERS_DIR, 'nginx', 'nginx.conf.in');
export const RTMP_MODULE_CANDIDATES = ['/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/share/nginx/modules/ngx_rtmp_module.so'];

export function findRtmpModule(): string | null {
  return RTMP_MODULE_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export interface StartNginxRtmpOptions {
  /** Preferred RTMP port, default 11935. */
  port?: number;
  /** Preferred HTTP port of the /stat page, default 11980. */
  statPort?: number;
  /** Record every published stream as FLV into recordDir. Default false. */
  record?: boolean;
  maxLifetimeSec?: number;
}

export interface RtmpStreamInfo {
  name: string;
  publishing: boolean;
  clients: number;
  video: { codec?: string; width?: number; height?: number; frameRate?: number } | null;
  audio: { codec?: string; sampleRate?: number; channels?: number } | null;
}

export interface NginxRtmp {
  readonly port: number;
  readonly statPort: number;
  /** rtmp://127.0.0.1:<port>/live */
  readonly baseUrl: string;
  /** Where FLV recordings go (only with record: true). */
  readonly recordDir: string | null;
  readonly process: PeerProcess;
  /** rtmp://127.0.0.1:<port>/<app>/<stream> */
  url(stream: string, app?: string): string;
  /** The raw /stat XML. */
  stat(): Promise<string>;
  /** Streams of application "live" per /stat. */
  streams(): Promise<RtmpStreamInfo[]>;
  /** Resolves once `stream` is being published (and has codec info if `withMedia`). */
  waitForStream(stream: string, timeoutMs?: number, withMedia?: boolean): Promise<RtmpStreamInfo>;
  /** FLV files recorded so far (absolute paths). */
  recordings(): string[];
  logs(): string;
  stop(): Promise<PeerExit>;
}

function httpGet(port: number, p: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: LOOPBACK, port, path: p, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${p}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p}: timeout`)));
    req.on('error', reject);
  });
}

function tag(xml: string, name: string): string | undefined {
  return xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];
}
function num(v: string | undefined): number | undefined {
  return v === undefined || v === '' ? undefined : Number(v);
}

/** Parses the <stream> elements of nginx-rtmp's stat XML. */
export function parseRtmpStat(xml: string, app = 'live'): RtmpStreamInfo[] {
  const appBlock = [...xml.matchAll(/<application>([\s\S]*?)<\/application>/g)].map((m) => m[1]!).find((b) => tag(b, 'name') === app);
  if (!appBlock) return [];
  return [...appBlock.matchAll(/<stream>([\s\S]*?)<\/stream>/g)].map((m) => {
    const s = m[1]!;
    const v = s.match(/<video>([\s\S]*?)<\/video>/)?.[1];
    const a = s.match(/<audio>([\s\S]*?)<\/audio>/)?.[1];
    return {
      name: tag(s, 'name') ?? '',
      publishing: /<publishing\/>/.test(s),
      clients: num(tag(s, 'nclients')) ?? 0,
      video: v ? { codec: tag(v, 'codec'), width: num(tag(v, 'width')), height: num(tag(v, 'height')), frameRate: num(tag(v, 'frame_rate')) } : null,
      audio: a ? { codec: tag(a, 'codec'), sampleRate: num(tag(a, 'sample_rate')), channels: num(tag(a, 'channels')) } : null,
    };
  });
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: LOOPBACK, port });
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

export async function startNginxRtmp(opts: StartNginxRtmpOptions = {}): Promise<NginxRtmp> {
  const bin = requireBinary('nginx');
  const module = findRtmpModule();
  if (!module) throw new Error(`nginx rtmp module not found (${RTMP_MODULE_CANDIDATES.join(', ')}); install libnginx-mod-rtmp`);
  const port = await pickPort(opts.port ?? 11935, 'tcp');
  const statPort = await pickPort(opts.statPort ?? 11980, 'tcp');
  const runDir = makeRunDir('nginx-rtmp');
  for (const d of ['tmp', 'rec']) mkdirSync(path.join(runDir, d), { recursive: true });
  const recordDir = opts.record ? path.join(runDir, 'rec') : null;
  const record = recordDir ? `record all;\n            record_path ${recordDir};\n            record_unique on;` : 'record off;';
  const conf = readFileSync(NGINX_TEMPLATE, 'utf8')
    .replaceAll('{{RTMP_MODULE}}', module)
    .replaceAll('{{RTMP_PORT}}', String(port))
    .replaceAll('{{STAT_PORT}}', String(statPort))
    .replaceAll('{{RECORD}}', record);
  const confPath = path.join(runDir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const errorLog = path.join(runDir, 'error.log');
  const proc = spawnPeer({
    name: `nginx-rtmp:${port}`,
    command: bin,
    args: ['-p', `${runDir}/`, '-c', confPath, '-e', errorLog],
    cwd: runDir,
    maxLifetimeSec: opts.maxLifetimeSec ?? 900,
    logFiles: [errorLog],
    // keep recordings until stop(); removed with the run dir unless SIPCAST_E2E_KEEP_PEER_RUNS=1
    runDir,
  });
  try {
    await Promise.race([
      pollUntil(async () => (await tcpConnects(port)) && (await tcpConnects(statPort)), 10_000, `nginx-rtmp on ${port}/${statPort}`, 100),
      proc.exited.then((e) => {
        throw new Error(`nginx exited during startup (code ${e.code}, signal ${e.signal})`);
      }),
    ]);
  } catch (err) {
    await proc.stop();
    throw new Error(`startNginxRtmp: ${(err as Error).message}\n--- nginx ---\n${proc.logs()}`);
  }
  const stat = () => httpGet(statPort, '/stat');
  const streams = async () => parseRtmpStat(await stat());
  return {
    port,
    statPort,
    baseUrl: `rtmp://${LOOPBACK}:${port}/live`,
    recordDir,
    process: proc,
    url: (stream, app = 'live') => `rtmp://${LOOPBACK}:${port}/${app}/${stream}`,
    stat,
    streams,
    waitForStream: (stream, timeoutMs = 10_000, withMedia = false) =>
      pollUntil(
        async () => (await streams()).find((s) => s.name === stream && s.publishing && (!withMedia || s.video !== null || s.audio !== null)),
        timeoutMs,
        `RTMP stream "${stream}" published`,
        200,
      ),
    recordings: () => (recordDir && existsSync(recordDir) ? readdirSync(recordDir).filter((f) => f.endsWith('.flv')).map((f) => path.join(recordDir, f)) : []),
    logs: () => proc.logs(),
    stop: () => proc.stop({ signal: 'SIGTERM', graceMs: 3_000 }),
  };
}
