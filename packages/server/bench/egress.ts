/**
 * Egress benchmark: CPU per RTMP push and per recording of the demo stream (H.264 640x360 +
 * opus, ~0.9 Mbit/s), split into the sipcast server (this process: the RTP sink copying packets
 * to ffmpeg over loopback) and the ffmpeg children (H.264 copy, opus -> AAC, FLV / fragmented MP4).
 *
 *   npx tsx packages/server/bench/egress.ts [--seconds 20] [--counts 1,4]
 *
 * Phases, each measured over --seconds after a 3 s warm-up: baseline (the demo stream with no
 * sink; again at the end, the mean is used), N pushes of it to a local nginx-rtmp (skipped without
 * nginx + libnginx-mod-rtmp), N recordings of N demo streams (one recording per stream; the N
 * streams are measured alone first). Server CPU per unit = (phase - its baseline) / N. CPU comes from /proc/<pid>/stat (utime + stime), in % of one core.
 * Prints a table and one JSON line `{"type":"egress-bench", ...}`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PushManager } from '../src/egress/PushManager.js';
import { RecorderManager } from '../src/egress/RecorderManager.js';
import { loadClip } from '../src/media/clip/ClipFormat.js';
import { defaultDemoClipPath, DemoSource } from '../src/media/DemoSource.js';
import { StreamRegistry } from '../src/registry/StreamRegistry.js';
import { Logger } from '../src/util/Logger.js';

const RTMP_MODULE = ['/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/share/nginx/modules/ngx_rtmp_module.so'].find((p) => existsSync(p));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const SECONDS = Number(arg('seconds', '20'));
const COUNTS = arg('counts', '1,4').split(',').map(Number).filter((n) => n > 0);
const CLK_TCK = 100; // Linux USER_HZ

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process in clock ticks (0 when it is gone). */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** Pids of the ffmpeg children of this process. */
function ffmpegChildren(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'ffmpeg' && ppid === process.pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

interface Sample {
  serverPct: number;
  ffmpegPct: number[];
  nginxPct: number;
}

/** CPU of this process, the ffmpeg children and nginx over `seconds`, in % of one core. */
async function measure(seconds: number, nginxPid?: number): Promise<Sample> {
  const pids = ffmpegChildren();
  const t0 = performance.now();
  const s0 = process.cpuUsage();
  const f0 = pids.map((p) => cpuTicks(p));
  const n0 = nginxPid ? cpuTicks(nginxPid) : 0;
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const pct = (ticks: number): number => (ticks / CLK_TCK / wall) * 100;
  return {
    serverPct: (((({ user, system }) => user + system)(process.cpuUsage(s0)) / 1e6) / wall) * 100,
    ffmpegPct: pids.map((p, i) => pct(cpuTicks(p) - f0[i]!)),
    nginxPct: nginxPid ? pct(cpuTicks(nginxPid) - n0) : 0,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startNginx(dir: string): Promise<{ proc: ChildProcess; url: string } | undefined> {
  if (!RTMP_MODULE || !existsSync('/usr/sbin/nginx')) return undefined;
  const port = await freePort();
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(
    join(dir, 'nginx.conf'),
    `load_module ${RTMP_MODULE};\ndaemon off;\nmaster_process off;\nworker_processes 1;\npid nginx.pid;\nerror_log error.log warn;\nevents { worker_connections 256; }\n` +
      `rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; allow publish 127.0.0.1; deny publish all; } } }\n`,
  );
  const proc = spawn('/usr/sbin/nginx', ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  await sleep(500);
  return proc.exitCode === null ? { proc, url: `rtmp://127.0.0.1:${port}/live` } : undefined;
}

const fmt = (n: number): string => n.toFixed(1).padStart(6);
const avg = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function main(): Promise<void> {
  const log = new Logger('warn');
  const work = mkdtempSync(join(tmpdir(), 'sipcast-egress-bench-'));
  const registry = new StreamRegistry();
  const stream = registry.create('demo', 'demo');
  const clip = loadClip(defaultDemoClipPath());
  const demo = new DemoSource(clip, { audioCodec: 'opus' });
  demo.start(stream);
  const pushes = new PushManager(registry, { ffmpegPath: 'ffmpeg', audioCodec: 'aac', log });
  const nginx = await startNginx(join(work, 'nginx'));
  /** `own`: the server CPU of the streams alone, measured for phases with extra streams. */
  const rows: { phase: string; count: number; own?: number; sample: Sample }[] = [];
  try {
    await sleep(5000); // JIT warm-up
    const base0 = await measure(SECONDS);
    process.stderr.write(`baseline: server ${base0.serverPct.toFixed(2)} %\n`);

    if (nginx) {
      for (const n of COUNTS) {
        const list = Array.from({ length: n }, (_, i) => pushes.startup({ streamName: 'demo', rtmpUrl: `${nginx.url}/bench${n}_${i}`, fullUrl: true }));
        await sleep(3000);
        if (list.some((p) => p.status !== 'PUBLISHING')) throw new Error(`pushes not publishing: ${list.map((p) => `${p.status} ${p.toJSON().lastError ?? ''}`).join(', ')}`);
        const s = await measure(SECONDS, nginx.proc.pid);
        rows.push({ phase: `${n} push(es) to nginx-rtmp`, count: n, sample: s });
        process.stderr.write(`push x${n}: server ${s.serverPct.toFixed(2)} %, ffmpeg ${s.ffmpegPct.map((x) => x.toFixed(2)).join('/')} %\n`);
        await Promise.all(list.map((p) => pushes.terminate(p.mediaSessionId)));
      }
    } else {
      process.stderr.write('nginx with the RTMP module not found: push phases skipped\n');
    }

    for (const n of COUNTS) {
      // one recording per stream: n - 1 extra demo streams, whose own cost is taken off below
      const recorders = new RecorderManager(registry, { ffmpegPath: 'ffmpeg', dir: join(work, 'records'), template: 'bench-{streamName}-{startTime}.mp4', recordSipStreams: false, log });
      const extra: DemoSource[] = [];
      const names = ['demo'];
      for (let i = 1; i < n; i++) {
        const s = registry.create(`rec${n}_${i}`, 'demo');
        const d = new DemoSource(clip, { audioCodec: 'opus' });
        d.start(s);
        extra.push(d);
        names.push(s.name);
      }
      let own: number | undefined;
      if (n > 1) {
        await sleep(3000);
        own = (await measure(SECONDS)).serverPct;
        process.stderr.write(`${n} streams, no sink: server ${own.toFixed(2)} %\n`);
      }
      for (const name of names) recorders.startup({ streamName: name });
      await sleep(3000);
      const s = await measure(SECONDS);
      rows.push({ phase: `${n} recording(s) of ${n} stream(s)`, count: n, ...(own !== undefined ? { own } : {}), sample: s });
      process.stderr.write(`record x${n}: server ${s.serverPct.toFixed(2)} %, ffmpeg ${s.ffmpegPct.map((x) => x.toFixed(2)).join('/')} %\n`);
      const t0 = performance.now();
      await recorders.stop();
      process.stderr.write(`record x${n}: finalised (remux of ${SECONDS + 3} s files) in ${(performance.now() - t0).toFixed(0)} ms\n`);
      for (const d of extra) d.stop();
      for (const name of names.slice(1)) registry.get(name)?.end('bench');
    }
    // the baseline again at the end; the mean of both is what the phases are compared with
    const base1 = await measure(SECONDS);
    process.stderr.write(`baseline again: server ${base1.serverPct.toFixed(2)} %\n`);
    rows.unshift({ phase: 'baseline (demo stream, no sink)', count: 0, sample: { ...base0, serverPct: (base0.serverPct + base1.serverPct) / 2 } });
  } finally {
    demo.stop();
    await pushes.stop();
    registry.endAll('bench');
    nginx?.proc.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }

  const base = rows[0]!.sample.serverPct;
  /** Server CPU of one push/recording: what the phase costs above the streams it runs on. */
  const perUnit = (r: (typeof rows)[number]): number => (r.count ? (r.sample.serverPct - (r.own ?? base)) / r.count : 0);
  process.stdout.write(`\nEgress CPU, demo stream (H.264 640x360 25 fps + opus), ${SECONDS} s per phase, % of one core (${process.arch}, ${cpuModel()})\n`);
  process.stdout.write(`${'phase'.padEnd(44)} server  server/unit  ffmpeg/unit  nginx\n`);
  for (const r of rows) {
    process.stdout.write(`${r.phase.padEnd(44)} ${fmt(r.sample.serverPct)}  ${r.count ? fmt(perUnit(r)) : '     -'}       ${r.count ? fmt(avg(r.sample.ffmpegPct)) : '     -'}       ${fmt(r.sample.nginxPct)}\n`);
  }
  process.stdout.write(
    `${JSON.stringify({
      type: 'egress-bench',
      seconds: SECONDS,
      rows: rows.map((r) => ({ phase: r.phase, count: r.count, serverPct: +r.sample.serverPct.toFixed(2), serverPerUnitPct: +perUnit(r).toFixed(2), ffmpegPerUnitPct: +avg(r.sample.ffmpegPct).toFixed(2), nginxPct: +r.sample.nginxPct.toFixed(2) })),
    })}\n`,
  );
}

function cpuModel(): string {
  try {
    return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`egress bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
