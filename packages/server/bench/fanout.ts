/**
 * Fan-out benchmark orchestrator: server CPU per forwarded packet per viewer.
 *
 *   npx tsx packages/server/bench/fanout.ts [--ns 0,1,10,50,100] [--warmup 5] [--window 15]
 *        [--gcm-off-n 50] [--repeat 1] [--perf] [--no-tshark] [--out file.json]
 *
 * For each N it starts packages/server/bench/fanoutServer.ts pinned to CPU 0 (`taskset -c 0`)
 * and, for N > 0, packages/server/bench/loadClient.ts with N receivers pinned to CPU 1; waits
 * until every receiver gets audio and video, lets it run `--warmup` s, then measures a `--window`
 * s window: server CPU (user+system of the whole process, all threads), forwarded packets
 * (packets pushed x sinks), RSS, receivers' packets. Everything is on 127.0.0.1 and every child
 * (a process group of its own) is killed at the end of its run.
 *
 * The same is repeated with SIPCAST_SRTP_PREFER_GCM=false for N=`--gcm-off-n` (0 disables it).
 * When tshark is installed the DTLS ServerHello's SRTP profile is captured for each run, so the
 * table says which cipher was actually negotiated. `--perf` adds one extra run at the largest N,
 * profiled with `perf record` (node with --perf-basic-prof-only-functions), summarised by shared
 * object and symbol; that run is not in the tables. At the end, a bulk measurement of the SRTP
 * transforms in Node's OpenSSL estimates what the cipher choice changes per packet.
 *
 * N=0 (no receivers) measures the fixed cost: the in-process synthetic source, timers, stats.
 *
 * Builds nothing: it runs the TypeScript sources through tsx.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BENCH = path.join(REPO, 'packages', 'server', 'bench');
const ICE_MIN = 40000;
const ICE_MAX = 49999;
const CLIENT_ICE_MIN = 50000;
const CLIENT_ICE_MAX = 59999;
/** Packets per second of one viewer at the synthetic profile (140 video + 50 audio, + keyframes). */
const VIEWER_PPS = 190;
const TARGET_US = 8;

const { values: argv } = parseArgs({
  options: {
    ns: { type: 'string', default: '0,1,10,50,100' },
    warmup: { type: 'string', default: '5' },
    window: { type: 'string', default: '15' },
    'gcm-off-n': { type: 'string', default: '50' },
    repeat: { type: 'string', default: '1' },
    perf: { type: 'boolean', default: false },
    'no-tshark': { type: 'boolean', default: false },
    out: { type: 'string' },
    'base-port': { type: 'string', default: '18480' },
  },
});
const NS = argv.ns!.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n >= 0);
const WARMUP_S = Number(argv.warmup);
const WINDOW_S = Number(argv.window);
const GCM_OFF_N = Number(argv['gcm-off-n']);
const REPEAT = Math.max(1, Number(argv.repeat));
const HAVE_TSHARK = !argv['no-tshark'] && spawnSync('sh', ['-c', 'command -v tshark'], { stdio: 'ignore' }).status === 0;
const HAVE_PERF = argv.perf && spawnSync('sh', ['-c', 'command -v perf'], { stdio: 'ignore' }).status === 0;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  process.stderr.write(`[fanout] ${msg}\n`);
}

/** A child process in its own process group that prints JSON lines. */
class JsonChild {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly #waiters: { pred: (o: Json) => boolean; resolve: (o: Json) => void }[] = [];
  last: Record<string, Json> = {};
  stderr = '';
  exited = false;
  readonly exitPromise: Promise<void>;

  constructor(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.proc = spawn(cmd, args, { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    live.add(this);
    this.exitPromise = new Promise((resolve) => {
      this.proc.once('exit', () => {
        this.exited = true;
        live.delete(this);
        resolve();
      });
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let obj: Json;
      try {
        obj = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof obj['type'] === 'string') this.last[obj['type']] = obj;
      for (let i = 0; i < this.#waiters.length; i++) {
        const w = this.#waiters[i]!;
        if (w.pred(obj)) {
          this.#waiters.splice(i--, 1);
          w.resolve(obj);
        }
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
  }

  waitFor(pred: (o: Json) => boolean, timeoutMs: number, what: string): Promise<Json> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(entry);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`${this.name}: timed out waiting for ${what}; stderr: ${this.stderr.slice(-1500)}`));
      }, timeoutMs);
      const entry = {
        pred,
        resolve: (o: Json) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      this.#waiters.push(entry);
      this.exitPromise.then(() => {
        const i = this.#waiters.indexOf(entry);
        if (i < 0) return;
        this.#waiters.splice(i, 1);
        clearTimeout(timer);
        reject(new Error(`${this.name} exited while waiting for ${what}; stderr: ${this.stderr.slice(-1500)}`));
      });
    });
  }

  /** Sends a stdin command and waits for the reply line of `type`. */
  ask(cmd: string, type: string, timeoutMs = 10_000): Promise<Json> {
    const p = this.waitFor((o) => o['type'] === type, timeoutMs, `${type} reply`);
    this.proc.stdin!.write(`${cmd}\n`);
    return p;
  }

  /** "quit" on stdin, then SIGTERM, then SIGKILL of the whole group. */
  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      this.proc.stdin!.write('quit\n');
    } catch {
      /* pipe gone */
    }
    await Promise.race([this.exitPromise, sleep(3000)]);
    killGroup(this.proc, 'SIGTERM');
    await Promise.race([this.exitPromise, sleep(2000)]);
    killGroup(this.proc, 'SIGKILL');
    await Promise.race([this.exitPromise, sleep(2000)]);
  }
}

const live = new Set<JsonChild>();
const liveOther = new Set<ChildProcess>();

function killGroup(proc: ChildProcess, sig: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, sig);
  } catch {
    /* already gone */
  }
}

function killAll(): void {
  for (const c of live) killGroup(c.proc, 'SIGKILL');
  for (const p of liveOther) killGroup(p, 'SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Busy and steal jiffies per CPU from /proc/stat (to see what else ran on the benchmark's CPUs). */
function cpuStat(): { busy: number[]; steal: number[] } {
  const busy: number[] = [];
  const steal: number[] = [];
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m) continue;
      const v = m[2]!.trim().split(/\s+/).map(Number);
      // user nice system idle iowait irq softirq steal
      busy[Number(m[1])] = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!;
      steal[Number(m[1])] = v[7]!;
    }
  } catch {
    /* not Linux */
  }
  return { busy, steal };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function pickPorts(base: number): Promise<[number, number]> {
  for (let p = base; p < base + 200; p += 2) {
    if ((await portFree(p)) && (await portFree(p + 1))) return [p, p + 1];
  }
  throw new Error(`no free port pair from ${base}`);
}

/** Captures the SRTP profile chosen in DTLS ServerHellos on the server's ICE ports. */
function startTshark(): { proc: ChildProcess; profiles: () => string[]; ready: Promise<void> } | undefined {
  if (!HAVE_TSHARK) return undefined;
  const out: string[] = [];
  const proc = spawn(
    'taskset',
    [
      '-c',
      '1',
      'tshark',
      '-l',
      '-i',
      'lo',
      '-f',
      // DTLS handshake records only (content type 22 in the first UDP payload byte).
      `udp portrange ${ICE_MIN}-${CLIENT_ICE_MAX} and udp[8] == 22`,
      '-Y',
      'dtls.handshake.type == 2',
      '-T',
      'fields',
      '-e',
      'dtls.use_srtp.protection_profile',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  liveOther.add(proc);
  const ready = new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 5000);
    proc.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('Capturing on')) {
        clearTimeout(t);
        setTimeout(resolve, 300);
      }
    });
    proc.once('exit', () => resolve());
  });
  proc.once('exit', () => liveOther.delete(proc));
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    const v = l.trim();
    if (v) out.push(v);
  });
  return { proc, profiles: () => out, ready };
}

const SRTP_PROFILE_NAMES: Record<string, string> = {
  '0x0001': 'AES128_CM_HMAC_SHA1_80',
  '0x0002': 'AES128_CM_HMAC_SHA1_32',
  '0x0007': 'AEAD_AES_128_GCM',
  '0x0008': 'AEAD_AES_256_GCM',
  '1': 'AES128_CM_HMAC_SHA1_80',
  '2': 'AES128_CM_HMAC_SHA1_32',
  '7': 'AEAD_AES_128_GCM',
  '8': 'AEAD_AES_256_GCM',
};

function summarizeProfiles(raw: string[]): string {
  if (raw.length === 0) return HAVE_TSHARK ? 'not seen' : 'n/a';
  const counts = new Map<string, number>();
  for (const r of raw) {
    const name = SRTP_PROFILE_NAMES[r.toLowerCase()] ?? r;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([k, v]) => `${k}×${v}`).join(', ');
}

interface RunResult {
  label: string;
  n: number;
  preferGcm: boolean;
  srtp: string;
  windowS: number;
  server: {
    cpuCores: number;
    cpuUs: number;
    userShare: number;
    forwardedPps: number;
    pushedPps: number;
    rawUsPerPkt: number | null;
    rssMb: number;
    heapMb: number;
    keyframesInWindow: number;
    keyframeRequestsTotal: number;
    sinks: number;
    sinkErrors: number;
    connectCpuMsPerPeer: number | null;
    ctxSwPerS: number;
    threads: { name: string; cores: number }[];
    /** Whole-machine view of the window: busy cores of CPU 0 and CPU 1 (all processes), steal. */
    cpu0Busy: number;
    cpu1Busy: number;
    stealCores: number;
  };
  client: null | {
    connectS: number;
    failed: number;
    cpuCores: number;
    rxPpsPerViewerMean: number;
    rxPpsPerViewerMin: number;
    rxVideoPpsMean: number;
    rxAudioPpsMean: number;
    lostInWindow: number;
    rtcpPerViewer: number;
  };
  perf?: string;
}

async function runOnce(n: number, preferGcm: boolean, label: string, withPerf: boolean): Promise<RunResult> {
  const [wsPort, httpPort] = await pickPorts(Number(argv['base-port']));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIPCAST_BIND: '127.0.0.1',
    SIPCAST_WS_PORT: String(wsPort),
    SIPCAST_HTTP_PORT: String(httpPort),
    SIPCAST_ICE_PORT_MIN: String(ICE_MIN),
    SIPCAST_ICE_PORT_MAX: String(ICE_MAX),
    SIPCAST_SRTP_PREFER_GCM: String(preferGcm),
    SIPCAST_DEMO: 'false',
    SIPCAST_LOG_LEVEL: process.env['SIPCAST_LOG_LEVEL'] ?? 'warn',
  };
  log(`${label}: N=${n} preferGcm=${preferGcm} ws=${wsPort}`);
  const nodeFlags = withPerf ? ['--perf-basic-prof-only-functions'] : [];
  const server = new JsonChild('server', 'taskset', ['-c', '0', process.execPath, ...nodeFlags, '--import', 'tsx', path.join(BENCH, 'fanoutServer.ts')], env);
  let client: JsonChild | undefined;
  let tshark: ReturnType<typeof startTshark>;
  try {
    await server.waitFor((o) => o['type'] === 'ready', 30_000, 'ready');
    // Let start-up (module loading, JIT) settle before the connect phase is measured.
    await sleep(2000);
    const beforeConnect = await server.ask('stats', 'stats');
    let connectS = 0;
    let connectCpuMsPerPeer: number | null = null;
    let failed = 0;
    if (n > 0) {
      tshark = startTshark();
      if (tshark) await tshark.ready;
      const t0 = performance.now();
      client = new JsonChild(
        'loadClient',
        'taskset',
        [
          '-c',
          '1',
          process.execPath,
          '--import',
          'tsx',
          path.join(BENCH, 'loadClient.ts'),
          '--url',
          `ws://127.0.0.1:${wsPort}`,
          '--n',
          String(n),
          '--port-min',
          String(CLIENT_ICE_MIN),
          '--port-max',
          String(CLIENT_ICE_MAX),
        ],
        { ...process.env },
      );
      const prog = await client.waitFor(
        (o) => o['type'] === 'progress' && (o['receiving'] === n || (o['playing'] + o['failed'] >= n && o['failed'] > 0)),
        60_000 + n * 1000,
        `${n} receivers receiving`,
      );
      failed = prog['failed'];
      if (prog['receiving'] !== n) {
        // Some failed: give the rest a moment, then go on with what we have.
        log(`${label}: ${prog['failed']} receivers failed: ${JSON.stringify(prog['errors'])}`);
      }
      connectS = (performance.now() - t0) / 1000;
      const afterConnect = await server.ask('stats', 'stats');
      const dCpuMs = (afterConnect['cpuUserUs'] + afterConnect['cpuSystemUs'] - beforeConnect['cpuUserUs'] - beforeConnect['cpuSystemUs']) / 1000;
      connectCpuMsPerPeer = dCpuMs / n;
      if (tshark) {
        await sleep(500);
        killGroup(tshark.proc, 'SIGTERM');
      }
    }
    await sleep(WARMUP_S * 1000);
    const p0 = cpuStat();
    const s0 = await server.ask('stats', 'stats');
    const th0 = await server.ask('threads', 'threads');
    const c0 = client ? await client.ask('snap', 'snap') : undefined;
    let perf: ChildProcess | undefined;
    let perfExited: Promise<unknown> = Promise.resolve();
    const perfFile = path.join(os.tmpdir(), `sipcast-fanout-perf-${process.pid}.data`);
    if (withPerf) {
      perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(server.last['ready']!['pid']), '-o', perfFile, '--', 'sleep', String(Math.max(1, WINDOW_S - 2))], {
        stdio: 'ignore',
        detached: true,
      });
      liveOther.add(perf);
      perfExited = new Promise((r) => perf!.once('exit', r));
    }
    await sleep(WINDOW_S * 1000);
    const s1 = await server.ask('stats', 'stats');
    const p1 = cpuStat();
    const th1 = await server.ask('threads', 'threads');
    const c1 = client ? await client.ask('snap', 'snap') : undefined;
    let perfReport: string | undefined;
    if (perf) {
      await Promise.race([perfExited, sleep(10_000)]);
      liveOther.delete(perf);
      perfReport = perfSummary(perfFile);
      rmSync(perfFile, { force: true });
      rmSync(`/tmp/perf-${server.last['ready']!['pid']}.map`, { force: true });
    }

    const wallS = (s1['tMs'] - s0['tMs']) / 1000;
    const cpuUs = s1['cpuUserUs'] + s1['cpuSystemUs'] - s0['cpuUserUs'] - s0['cpuSystemUs'];
    const userUs = s1['cpuUserUs'] - s0['cpuUserUs'];
    const forwarded = s1['forwarded'] - s0['forwarded'];
    const pushed = s1['pushedAudio'] + s1['pushedVideo'] - s0['pushedAudio'] - s0['pushedVideo'];
    const mainPid = server.last['ready']!['pid'];
    const threadMap = new Map<string, number>();
    const before = new Map<number, number>((th0['threads'] as Json[]).map((t) => [t['tid'], t['cpuTicks']]));
    for (const t of th1['threads'] as Json[]) {
      const name = t['tid'] === mainPid ? 'main (JS event loop)' : t['name'];
      const d = t['cpuTicks'] - (before.get(t['tid']) ?? 0);
      threadMap.set(name, (threadMap.get(name) ?? 0) + d);
    }
    const threads = [...threadMap]
      .map(([name, ticks]) => ({ name, cores: ticks / CLK_TCK / wallS }))
      .filter((t) => t.cores > 0.0005)
      .sort((a, b) => b.cores - a.cores);

    let clientRes: RunResult['client'] = null;
    if (client && c0 && c1) {
      const cw = (c1['tMs'] - c0['tMs']) / 1000;
      const rx0 = c0['rx'] as number[][];
      const rx1 = c1['rx'] as number[][];
      const per = rx1.map((r, i) => {
        const a = rx0[i]!;
        return { v: (r[0]! - a[0]!) / cw, a: (r[1]! - a[1]!) / cw, rtcp: (r[4]! - a[4]!) / cw, lost: r[6]! - a[6]! + r[7]! - a[7]! };
      });
      const tot = per.map((p) => p.v + p.a);
      rx1.forEach((r, i) => {
        const a = rx0[i]!;
        rxBytesTotal += r[2]! - a[2]! + r[3]! - a[3]!;
        rxPktsTotal += r[0]! - a[0]! + r[1]! - a[1]!;
      });
      const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
      clientRes = {
        connectS,
        failed,
        cpuCores: (c1['cpuUserUs'] + c1['cpuSystemUs'] - c0['cpuUserUs'] - c0['cpuSystemUs']) / 1e6 / cw,
        rxPpsPerViewerMean: mean(tot),
        rxPpsPerViewerMin: Math.min(...tot),
        rxVideoPpsMean: mean(per.map((p) => p.v)),
        rxAudioPpsMean: mean(per.map((p) => p.a)),
        lostInWindow: per.reduce((s, p) => s + p.lost, 0),
        rtcpPerViewer: mean(per.map((p) => p.rtcp)),
      };
    }
    const result: RunResult = {
      label,
      n,
      preferGcm,
      srtp: n > 0 ? summarizeProfiles(tshark?.profiles() ?? []) : '-',
      windowS: wallS,
      server: {
        cpuCores: cpuUs / 1e6 / wallS,
        cpuUs,
        userShare: cpuUs > 0 ? userUs / cpuUs : 0,
        forwardedPps: forwarded / wallS,
        pushedPps: pushed / wallS,
        rawUsPerPkt: forwarded > 0 ? cpuUs / forwarded : null,
        rssMb: s1['rssBytes'] / 1048576,
        heapMb: s1['heapUsedBytes'] / 1048576,
        keyframesInWindow: s1['keyframesSent'] - s0['keyframesSent'],
        keyframeRequestsTotal: s1['keyframeRequests'],
        sinks: s1['sinks'],
        sinkErrors: s1['sinkErrors'],
        connectCpuMsPerPeer,
        ctxSwPerS: (s1['volCtxSw'] + s1['involCtxSw'] - s0['volCtxSw'] - s0['involCtxSw']) / wallS,
        threads,
        cpu0Busy: ((p1.busy[0] ?? 0) - (p0.busy[0] ?? 0)) / CLK_TCK / wallS,
        cpu1Busy: ((p1.busy[1] ?? 0) - (p0.busy[1] ?? 0)) / CLK_TCK / wallS,
        stealCores: (p1.steal.reduce((a, b) => a + b, 0) - p0.steal.reduce((a, b) => a + b, 0)) / CLK_TCK / wallS,
      },
      client: clientRes,
      ...(perfReport ? { perf: perfReport } : {}),
    };
    log(
      `${label}: server ${result.server.cpuCores.toFixed(3)} cores, ${result.server.forwardedPps.toFixed(0)} fwd pps` +
        (clientRes ? `, rx ${clientRes.rxPpsPerViewerMean.toFixed(1)} pps/viewer (min ${clientRes.rxPpsPerViewerMin.toFixed(1)})` : '') +
        `, srtp ${result.srtp}`,
    );
    return result;
  } finally {
    if (tshark) killGroup(tshark.proc, 'SIGKILL');
    if (client) await client.stop();
    await server.stop();
  }
}

/** Mean size of the packets the receivers got (RTP header + payload), from the client snapshots. */
let rxBytesTotal = 0;
let rxPktsTotal = 0;
function meanPacketBytes(): number {
  return rxPktsTotal > 0 ? rxBytesTotal / rxPktsTotal : 875;
}

function perfSummary(file: string): string {
  if (!existsSync(file)) return 'perf: no data';
  const report = (...args: string[]): string =>
    spawnSync('perf', ['report', '-i', file, '--stdio', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout ?? '';
  const rows = (text: string): string[] => text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const dso = rows(report('--no-children', '--sort', 'dso', '-g', 'none')).slice(0, 12);
  const syms = rows(report('--no-children', '--sort', 'dso,sym', '-g', 'none'));
  const share = (re: RegExp): number =>
    syms.reduce((sum, l) => {
      const m = /^\s*([\d.]+)%\s+(.*)$/.exec(l);
      return m && re.test(m[2]!) ? sum + Number(m[1]) : sum;
    }, 0);
  const inclusive = rows(report('--children', '--sort', 'sym', '-g', 'none'));
  const incl = (re: RegExp): number => {
    for (const l of inclusive) {
      const m = /^\s*([\d.]+)%\s+([\d.]+)%\s+\[.\]\s+(.*)$/.exec(l);
      if (m && re.test(m[3]!.trim())) return Number(m[1]);
    }
    return NaN;
  };
  const groups = [
    ['SRTP/crypto (libsrtp + OpenSSL AES/GHASH/SHA1 in node_datachannel.node)', share(/node_datachannel\.node.*(srtp|aes|gcm|ghash|sha1|hmac|cipher|EVP_|CRYPTO_)/i)],
    ['NACK history store (RtcpNackResponder)', share(/RtcpNackResponder/)],
    ['other libdatachannel/libjuice (node_datachannel.node)', share(/node_datachannel\.node/) - share(/node_datachannel\.node.*(srtp|aes|gcm|ghash|sha1|hmac|cipher|EVP_|CRYPTO_|RtcpNackResponder)/i)],
    ['kernel', share(/\[kernel\.kallsyms\]/)],
    ['libc (malloc/free/memcpy, syscall stubs)', share(/libc\.so/)],
    ['node/V8 runtime + JIT code', share(/^(node|\[JIT\]|\S*perf-\d+\.map)\s/)],
  ] as const;
  const lines = [
    '-- by shared object (self) --',
    ...dso,
    '-- grouped (self) --',
    ...groups.map(([k, v]) => `${v.toFixed(1).padStart(6)} %  ${k}`),
    '-- inclusive (children) --',
    `${incl(/^__libc_sendto$/).toFixed(1).padStart(6)} %  sendto() calls (user stub + kernel UDP send path)`,
    `${incl(/^handle_softirqs$/).toFixed(1).padStart(6)} %  softirq inside the server's time (loopback delivery to the receivers' sockets, net_rx_action)`,
    '-- top symbols (self) --',
    ...syms.slice(0, 25),
  ];
  return lines.join('\n');
}

const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

function mean(rs: RunResult[], pick: (r: RunResult) => number | null | undefined): number | null {
  const xs = rs.map(pick).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}

function table(results: RunResult[]): string {
  const lines: string[] = [];
  const main = results.filter((r) => r.preferGcm && r.label !== 'perf');
  const byN = new Map<number, RunResult[]>();
  for (const r of main) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
  const ns = [...byN.keys()].sort((a, b) => a - b);
  const agg = ns.map((n) => {
    const rs = byN.get(n)!;
    return {
      n,
      runs: rs.length,
      cpu: mean(rs, (r) => r.server.cpuCores)!,
      fwd: mean(rs, (r) => r.server.forwardedPps)!,
      raw: mean(rs, (r) => r.server.rawUsPerPkt),
      rss: mean(rs, (r) => r.server.rssMb),
      rx: mean(rs, (r) => r.client?.rxPpsPerViewerMean),
      rxMin: mean(rs, (r) => r.client?.rxPpsPerViewerMin),
      lost: mean(rs, (r) => r.client?.lostInWindow),
      ccpu: mean(rs, (r) => r.client?.cpuCores),
      conn: mean(rs, (r) => r.server.connectCpuMsPerPeer),
      srtp: [...new Set(rs.map((r) => r.srtp))].join(' / '),
      cpu0: mean(rs, (r) => r.server.cpu0Busy),
      spread: rs.length > 1 ? Math.max(...rs.map((r) => r.server.cpuCores)) - Math.min(...rs.map((r) => r.server.cpuCores)) : null,
    };
  });
  lines.push('');
  lines.push(`Fan-out, SIPCAST_SRTP_PREFER_GCM=true (default); ${WINDOW_S} s window after ${WARMUP_S} s warm-up; server on CPU 0, receivers on CPU 1`);
  lines.push('');
  lines.push('| N | server CPU (cores) | forwarded pps | raw µs/pkt/viewer | marginal µs/pkt/viewer (from previous N) | viewers/core at 190 pps (marginal) | server RSS MB | server CPU per peer connect (ms) | rx pps per viewer mean (min) | lost in window | receivers CPU (cores) | CPU 0 busy, all processes (cores) | SRTP profile (ServerHello) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  let prev: (typeof agg)[number] | undefined;
  for (const a of agg) {
    let slope: number | null = null;
    if (prev && a.fwd - prev.fwd > 1) slope = ((a.cpu - prev.cpu) * 1e6) / (a.fwd - prev.fwd);
    const perCore = slope && slope > 0 ? 1e6 / (slope * VIEWER_PPS) : null;
    lines.push(
      `| ${a.n}${a.runs > 1 ? ` (${a.runs} runs)` : ''} | ${f(a.cpu, 3)}${a.spread !== null ? ` (±${f(a.spread / 2, 3)})` : ''} | ${f(a.fwd, 0)} | ${f(a.raw)} | ${f(slope)} | ${perCore ? f(perCore, 0) : '–'} | ${f(a.rss, 0)} | ${f(a.conn)} | ${a.rx === null ? '–' : `${f(a.rx)} (${f(a.rxMin)})`} | ${f(a.lost, 0)} | ${f(a.ccpu, 3)} | ${f(a.cpu0, 3)} | ${a.srtp} |`,
    );
    prev = a;
  }
  // Overall least-squares slope over N >= 1.
  const pts = agg.filter((a) => a.n >= 1);
  if (pts.length >= 2) {
    const mx = pts.reduce((s, p) => s + p.fwd, 0) / pts.length;
    const my = pts.reduce((s, p) => s + p.cpu, 0) / pts.length;
    const sxy = pts.reduce((s, p) => s + (p.fwd - mx) * (p.cpu - my), 0);
    const sxx = pts.reduce((s, p) => s + (p.fwd - mx) ** 2, 0);
    const slope = (sxy / sxx) * 1e6;
    const icpt = my - (slope / 1e6) * mx;
    lines.push('');
    lines.push(
      `Least-squares fit over N>=1: ${f(slope, 2)} µs per forwarded packet per viewer + ${f(icpt, 3)} cores fixed ` +
        `(target ≤ ${TARGET_US} µs: ${slope <= TARGET_US ? 'met' : 'NOT met'}); ≈ ${f((slope * VIEWER_PPS) / 1e4, 3)} % of a core per viewer; ` +
        `≈ ${f((1 - icpt) / ((slope * VIEWER_PPS) / 1e6), 0)} viewers on one core (linear extrapolation).`,
    );
  }
  const off = results.filter((r) => !r.preferGcm && r.label !== 'perf');
  if (off.length) {
    lines.push('');
    lines.push('Cipher / DTLS role comparison');
    lines.push('');
    lines.push('| N | SIPCAST_SRTP_PREFER_GCM | SRTP profile (ServerHello) | server CPU (cores) | forwarded pps | raw µs/pkt/viewer | rx pps per viewer |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const n of [...new Set(off.map((r) => r.n))]) {
      for (const r of results.filter((x) => x.n === n && x.label !== 'perf')) {
        lines.push(
          `| ${r.n} | ${r.preferGcm} | ${r.srtp} | ${f(r.server.cpuCores, 3)} | ${f(r.server.forwardedPps, 0)} | ${f(r.server.rawUsPerPkt)} | ${f(r.client?.rxPpsPerViewerMean)} |`,
        );
      }
    }
  }
  const big = [...main].sort((a, b) => b.n - a.n)[0];
  if (big) {
    lines.push('');
    lines.push(`Server threads at N=${big.n} (cores, window average): ${big.server.threads.map((t) => `${t.name} ${t.cores.toFixed(3)}`).join(', ')}`);
    lines.push(`Server user share of CPU at N=${big.n}: ${(big.server.userShare * 100).toFixed(0)} % user / ${(100 - big.server.userShare * 100).toFixed(0)} % system; context switches ${big.server.ctxSwPerS.toFixed(0)}/s`);
  }
  for (const r of results) if (r.perf) lines.push('', `perf profile of the server at N=${r.n} (${r.label}):`, '```', r.perf, '```');
  return lines.join('\n');
}

async function main(): Promise<void> {
  // Keep this process off the server's CPU.
  spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  log(`repo ${REPO}; Ns ${NS.join(',')}; warm-up ${WARMUP_S} s; window ${WINDOW_S} s; repeat ${REPEAT}; tshark ${HAVE_TSHARK}; perf ${HAVE_PERF}`);
  const results: RunResult[] = [];
  const maxN = Math.max(...NS);
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const n of NS) results.push(await runOnce(n, true, `run${rep + 1}`, false));
    if (GCM_OFF_N > 0) results.push(await runOnce(GCM_OFF_N, false, `run${rep + 1}-gcm-off`, false));
  }
  // The profiled run is extra (perf and --perf-basic-prof cost a little) and not in the tables.
  if (HAVE_PERF) results.push(await runOnce(maxN, true, 'perf', true));
  let text = table(results);
  const meanBytes = meanPacketBytes();
  const cm = cryptoMicro(meanBytes);
  const u = cm['usPerPacket'];
  text +=
    `\n\nSRTP transform cost estimate (bulk, this Node's OpenSSL, mean packet ${meanBytes.toFixed(0)} B): ` +
    `AES128_CM_HMAC_SHA1_80 ${u.AES128_CM_HMAC_SHA1_80.toFixed(2)} µs/pkt, AEAD_AES_128_GCM ${u.AEAD_AES_128_GCM.toFixed(2)} µs/pkt, ` +
    `AEAD_AES_256_GCM ${u.AEAD_AES_256_GCM.toFixed(2)} µs/pkt; difference CM−GCM256 ≈ ${(u.AES128_CM_HMAC_SHA1_80 - u.AEAD_AES_256_GCM).toFixed(2)} µs per forwarded packet.`;
  process.stdout.write(`${text}\n`);
  const outFile = argv.out ?? path.join(os.tmpdir(), 'sipcast-bench', `fanout-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ machine: machineInfo(), argv, results, cryptoMicro: cm }, null, 2));
  log(`raw results: ${outFile}`);
}

/**
 * Bulk cost of the two SRTP transforms in this Node's OpenSSL (node_datachannel.node links its own
 * OpenSSL 1.1.1w; both use AES-NI): ns per byte, turned into µs per packet of the mean size.
 * An estimate of what the cipher choice can change per forwarded packet, since the ndc receivers
 * always negotiate AEAD_AES_256_GCM whatever the DTLS role.
 */
function cryptoMicro(meanPacketBytes: number): Json {
  const buf = randomBytes(1 << 20);
  const nsPerByte = (fn: () => void): number => {
    for (let i = 0; i < 5; i++) fn();
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    let t = t0;
    while (t - t0 < 300_000_000n) {
      fn();
      bytes += buf.length;
      t = process.hrtime.bigint();
    }
    return Number(t - t0) / bytes;
  };
  const k16 = randomBytes(16);
  const k20 = randomBytes(20);
  const k32 = randomBytes(32);
  const iv16 = randomBytes(16);
  const iv12 = randomBytes(12);
  const ctr = nsPerByte(() => createCipheriv('aes-128-ctr', k16, iv16).update(buf));
  const sha1 = nsPerByte(() => createHmac('sha1', k20).update(buf).digest());
  const gcm = (alg: 'aes-128-gcm' | 'aes-256-gcm', key: Buffer) =>
    nsPerByte(() => {
      const c = createCipheriv(alg, key, iv12);
      c.update(buf);
      c.final();
      c.getAuthTag();
    });
  const gcm128 = gcm('aes-128-gcm', k16);
  const gcm256 = gcm('aes-256-gcm', k32);
  const us = (nspb: number): number => (nspb * meanPacketBytes) / 1000;
  return {
    meanPacketBytes,
    nsPerByte: { aes128ctr: ctr, hmacSha1: sha1, aes128gcm: gcm128, aes256gcm: gcm256 },
    usPerPacket: { AES128_CM_HMAC_SHA1_80: us(ctr + sha1), AEAD_AES_128_GCM: us(gcm128), AEAD_AES_256_GCM: us(gcm256) },
  };
}

export function machineInfo(): Json {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model,
    cpus: cpus.length,
    memGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err: Error) => {
    log(`failed: ${err.stack ?? err.message}`);
    killAll();
    process.exit(1);
  },
);
