/**
 * Call-setup benchmark: what it costs the server to place SIP calls from REST.
 *
 *   npx tsx packages/server/bench/callSetup.ts [--phases setup,sipp,cps,media] [--calls 200] [--warmup 10]
 *        [--sipp-calls 50] [--rates 10,25,50,100,200,300,400] [--step 10] [--hold 2] [--max-concurrent 1400]
 *        [--media-calls 100] [--media-cps 25] [--media-warmup 5] [--media-window 15] [--no-tshark] [--out file.json]
 *
 * Everything runs on 127.0.0.1. The server is `packages/server/src/main.ts` through tsx, pinned to
 * CPU 0 (`taskset -c 0`), with the demo stream and demo callee off, SIPCAST_MAX_CALLS=2000 and RTP
 * ports 34000-39999; this process (REST client, callee, RTP sender), tshark and SIPp run on CPU 1.
 * Each phase gets a fresh server; every child is killed at the end of its phase (and on exit).
 *
 * Phases:
 *  setup  `--calls` sequential calls to the in-process UDP callee (call/benchCallee.ts), which answers
 *         100 + 200 with SDP at once: startup fetch → INVITE at the callee, → HTTP 200, → ACK at the callee
 *         (≈ ESTABLISHED: the server sets ESTABLISHED synchronously when it processes the 200, and its
 *         ACK leaves a microtask later; /call/find is read after each ACK to confirm), terminate → BYE.
 *         With tshark, the same on the wire (kernel capture times on lo), which isolates the server.
 *         Before the calls, the REST round trip of a trivial request (/call/find → 404) as the HTTP floor.
 *  sipp   `--sipp-calls` sequential calls to a SIPp UAS (call/sipp_uas_answer.xml) that answers at once;
 *         startup → ESTABLISHED seen by polling /call/find every 1 ms (an upper bound), and on the wire → ACK.
 *  cps    calls started at each rate of `--rates` for `--step` s, each held `--hold` s after its ACK,
 *         then terminated (BYE awaited), with at most `--max-concurrent` in flight; the ramp stops at
 *         the first step with a failure (or with the server's CPU saturated). Server CPU from /proc over
 *         the step's starts. RSS again 40 s after the ramp (an ended call stays reachable for 64*T1 = 32 s).
 *  media  `--media-calls` calls to the callee in clip mode (H.264 + opus of packages/server/assets/demo.sclip
 *         as RTP, one ClipPacer per call), established at `--media-cps`; server CPU (utime+stime from
 *         /proc) and RSS idle, with the calls but no media (5 s), and with media flowing
 *         (`--media-warmup` s, then a `--media-window` s window) once /stream/find_all shows every
 *         stream with width 640.
 *
 * Markdown tables on stdout, progress on stderr, raw JSON in $TMPDIR/sipcast-bench/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadClip } from '../src/media/clip/ClipFormat.js';
import { defaultDemoClipPath } from '../src/media/DemoSource.js';
import { BenchCallee } from './call/benchCallee.js';
import {
  CLK_TCK,
  cpuBusyTicks,
  f,
  freeUdpPort,
  killAllChildren,
  log,
  meanOf,
  nowMs,
  pct,
  procCpuS,
  procCpuSplit,
  procMem,
  REPO,
  rest,
  sleep,
  startServer,
  stopChild,
  track,
  udpDrops,
  type ServerProc,
} from './call/util.js';
import { startWireCapture, type WireCall } from './call/wire.js';

const { values: argv } = parseArgs({
  options: {
    phases: { type: 'string', default: 'setup,sipp,cps,media' },
    calls: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '10' },
    'sipp-calls': { type: 'string', default: '50' },
    rates: { type: 'string', default: '10,25,50,100,200,300,400' },
    step: { type: 'string', default: '10' },
    hold: { type: 'string', default: '2' },
    'max-concurrent': { type: 'string', default: '1400' },
    'media-calls': { type: 'string', default: '100' },
    'media-cps': { type: 'string', default: '25' },
    'media-warmup': { type: 'string', default: '5' },
    'media-window': { type: 'string', default: '15' },
    'no-tshark': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '20' },
    out: { type: 'string' },
  },
});
const PHASES = new Set(argv.phases!.split(',').map((s) => s.trim()));
const CALLS = Math.max(1, Number(argv.calls));
const WARMUP = Math.max(0, Number(argv.warmup));
const SIPP_CALLS = Math.max(1, Number(argv['sipp-calls']));
const RATES = argv.rates!.split(',').map(Number).filter((r) => r > 0);
const STEP_S = Number(argv.step);
const HOLD_S = Number(argv.hold);
const MAX_CONC = Number(argv['max-concurrent']);
const MEDIA_CALLS = Number(argv['media-calls']);
const MEDIA_CPS = Number(argv['media-cps']);
const MEDIA_WARMUP_S = Number(argv['media-warmup']);
const MEDIA_WINDOW_S = Number(argv['media-window']);
const HAVE_TSHARK = !argv['no-tshark'] && spawnSync('sh', ['-c', 'command -v tshark'], { stdio: 'ignore' }).status === 0;
const HAVE_SIPP = spawnSync('sh', ['-c', 'command -v sipp'], { stdio: 'ignore' }).status === 0;

const SERVER_RTP = { min: 34000, max: 39999 };
const CALLEE_RTP = { min: 24000, max: 25999 };
const MAX_CALLS = 2000;

type Json = Record<string, unknown>;
const report: Json = {};
const out: string[] = [];
const print = (...lines: string[]): void => {
  out.push(...lines);
};

function startupBody(callId: string, calleeUri: string, domainPort: number): Json {
  return { callId, callee: calleeUri, toStream: `bench-${callId}`, sipLogin: 'bench', sipDomain: `127.0.0.1:${domainPort}` };
}

function busyDelta(b0: number[], b1: number[], wallS: number): [number, number] {
  return [((b1[0] ?? 0) - (b0[0] ?? 0)) / CLK_TCK / wallS, ((b1[1] ?? 0) - (b0[1] ?? 0)) / CLK_TCK / wallS];
}

function statRow(name: string, xs: number[], d = 2): string {
  return `| ${name} | ${xs.filter(Number.isFinite).length} | ${f(pct(xs, 50), d)} | ${f(pct(xs, 90), d)} | ${f(pct(xs, 99), d)} | ${f(Math.max(...xs.filter(Number.isFinite)), d)} | ${f(Math.min(...xs.filter(Number.isFinite)), d)} |`;
}
const STAT_HEAD = ['| metric (ms) | n | p50 | p90 | p99 | max | min |', '|---|---|---|---|---|---|---|'];

function sumStats(xs: number[]): Json {
  return { n: xs.length, p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), max: Math.max(...xs), min: Math.min(...xs), mean: meanOf(xs) };
}

// ---------------------------------------------------------------------------------------------
// Phase 1+2: sequential calls, in-process callee

async function phaseSetup(): Promise<void> {
  log(`setup: ${WARMUP} warm-up + ${CALLS} sequential calls`);
  const srv = await startServer({ rtpPortMin: SERVER_RTP.min, rtpPortMax: SERVER_RTP.max, maxCalls: MAX_CALLS });
  const callee = await BenchCallee.open({ media: 'sink', portMin: CALLEE_RTP.min, portMax: CALLEE_RTP.max });
  const wire = HAVE_TSHARK ? await startWireCapture(srv.httpPort, callee.port) : undefined;
  if (HAVE_TSHARK && !wire) log('setup: tshark did not start; no wire figures');
  try {
    await sleep(1000);
    // HTTP floor: a REST round trip that does nothing (404).
    const floor: number[] = [];
    for (let i = 0; i < 250; i++) {
      const r = await rest(srv.httpPort, 'call/find', { callId: 'nope' });
      if (r.status !== 404) throw new Error(`/call/find answered ${r.status}`);
      if (i >= 50) floor.push(r.t1 - r.t0);
    }
    const rows: { i: number; invite: number; http: number; ack: number; inviteToAck: number; bye: number; established: boolean }[] = [];
    let cold: (typeof rows)[number] | undefined;
    const cpu0 = procCpuS(srv.pid);
    const b0 = cpuBusyTicks();
    const t0 = nowMs();
    let measuredCpu0 = cpu0;
    let measuredT0 = t0;
    for (let i = 0; i < WARMUP + CALLS; i++) {
      if (i === WARMUP) {
        measuredCpu0 = procCpuS(srv.pid);
        measuredT0 = nowMs();
      }
      const id = `s${i}`;
      const r = await rest(srv.httpPort, 'call/startup', startupBody(id, callee.uri(id), callee.port));
      if (r.status !== 200) throw new Error(`startup ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      const inv = await callee.wait(id, 'invite', 5000);
      const ack = await callee.wait(id, 'ack', 5000);
      const found = await rest(srv.httpPort, 'call/find', { callId: id });
      const established = found.status === 200 && (found.body as { status: string }[])[0]?.status === 'ESTABLISHED';
      const term = await rest(srv.httpPort, 'call/terminate', { callId: id });
      if (term.status !== 200) throw new Error(`terminate ${id}: ${term.status}`);
      const bye = await callee.wait(id, 'bye', 5000);
      const row = { i, invite: inv - r.t0, http: r.t1 - r.t0, ack: ack - r.t0, inviteToAck: ack - inv, bye: bye - term.t0, established };
      if (i === 0) cold = row;
      if (i >= WARMUP) rows.push(row);
      await sleep(20);
    }
    const wallS = (nowMs() - measuredT0) / 1000;
    const cpuPerCallMs = ((procCpuS(srv.pid) - measuredCpu0) * 1000) / CALLS;
    const [busy0, busy1] = busyDelta(b0, cpuBusyTicks(), (nowMs() - t0) / 1000);
    await sleep(300);
    const left = await rest(srv.httpPort, 'call/find_all', {});
    const wireCalls = wire ? await wire.stop() : new Map<string, WireCall>();
    const measuredIds = new Set(rows.map((r) => `s${r.i}`));
    const w = [...wireCalls.values()].filter((c) => measuredIds.has(c.callId));
    const wInvite = w.filter((c) => c.invite !== undefined).map((c) => c.invite! - c.request);
    const wResp = w.filter((c) => c.response !== undefined).map((c) => c.response! - c.request);
    const wAck = w.filter((c) => c.ack !== undefined).map((c) => c.ack! - c.request);
    const wRespToInvite = w.filter((c) => c.invite !== undefined && c.response !== undefined).map((c) => c.invite! - c.response!);
    const inviteBefore200 = w.filter((c) => c.invite !== undefined && c.response !== undefined && c.invite < c.response).length;
    const pick = (k: keyof (typeof rows)[number]): number[] => rows.map((r) => r[k] as number);
    print(
      '',
      `### Call setup, ${CALLS} sequential calls (after ${WARMUP} warm-up calls), in-process UDP callee answering 100 + 200 at once`,
      '',
      ...STAT_HEAD,
      statRow('**startup fetch → INVITE at the callee**', pick('invite')),
      statRow('startup fetch → HTTP 200 read', pick('http')),
      statRow('**startup fetch → ACK at the callee (≈ ESTABLISHED)**', pick('ack')),
      statRow('INVITE → ACK at the callee (server handles 100 + 200, sends ACK)', pick('inviteToAck')),
      statRow('terminate fetch → BYE at the callee', pick('bye')),
      statRow('HTTP floor: fetch /call/find → 404 read (200 requests)', floor),
      ...(w.length
        ? [
            statRow('wire: startup request (last segment) → INVITE', wInvite),
            statRow('wire: startup request → HTTP 200 (first segment)', wResp),
            statRow('wire: HTTP 200 → INVITE', wRespToInvite),
            statRow('wire: startup request → ACK', wAck),
          ]
        : []),
      '',
      `First (cold) call: → INVITE ${f(cold?.invite)} ms, → HTTP 200 ${f(cold?.http)} ms, → ACK ${f(cold?.ack)} ms. ` +
        `/call/find right after the ACK said ESTABLISHED for ${rows.filter((r) => r.established).length}/${rows.length} calls. ` +
        `Calls left after the run: ${left.status === 404 ? 0 : JSON.stringify(left.body).slice(0, 200)}.`,
      `Server CPU per call cycle (startup, INVITE, 100/200, ACK, one /call/find, terminate, BYE): ${f(cpuPerCallMs, 2)} ms ` +
        `(${f(wallS, 1)} s wall). CPU 0 busy (all processes) ${f(busy0, 2)} cores, CPU 1 ${f(busy1, 2)} cores.` +
        (w.length ? ` On the wire the INVITE left before the HTTP 200 in ${inviteBefore200}/${wRespToInvite.length} calls.` : ''),
      `Target ≤ 5 ms p50 for startup → INVITE: ${pct(pick('invite'), 50) <= 5 ? 'met' : 'NOT met'} (${f(pct(pick('invite'), 50), 2)} ms).`,
    );
    report['setup'] = {
      calls: CALLS,
      warmup: WARMUP,
      invite: sumStats(pick('invite')),
      http: sumStats(pick('http')),
      ack: sumStats(pick('ack')),
      inviteToAck: sumStats(pick('inviteToAck')),
      bye: sumStats(pick('bye')),
      httpFloor: sumStats(floor),
      wire: w.length ? { invite: sumStats(wInvite), response: sumStats(wResp), responseToInvite: sumStats(wRespToInvite), ack: sumStats(wAck), inviteBefore200 } : null,
      cold,
      establishedAtAck: rows.filter((r) => r.established).length,
      cpuPerCallMs,
      cpu0Busy: busy0,
      cpu1Busy: busy1,
      rows,
    };
  } finally {
    await callee.close();
    await srv.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 2b: SIPp callee

async function phaseSipp(): Promise<void> {
  if (!HAVE_SIPP) {
    log('sipp: sipp not installed, skipped');
    print('', 'SIPp cross-check skipped: `sipp` is not installed.');
    return;
  }
  const scenario = path.join(REPO, 'packages', 'server', 'bench', 'call', 'sipp_uas_answer.xml');
  const srv = await startServer({ rtpPortMin: SERVER_RTP.min, rtpPortMax: SERVER_RTP.max, maxCalls: MAX_CALLS });
  const sipPort = await freeUdpPort();
  const ctrlPort = await freeUdpPort();
  // SIPp binds -mp and -mp+2 (and their +1): find 4 free ports in a row.
  let mediaPort = 0;
  for (let p = 27000; p < 27400 && !mediaPort; p += 4) {
    const ok = await Promise.all([0, 1, 2, 3].map((d) => portFree(p + d)));
    if (ok.every(Boolean)) mediaPort = p;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sipcast-bench-sipp-'));
  const total = SIPP_CALLS + 5;
  log(`sipp: ${total} sequential calls to SIPp on ${sipPort} (media ${mediaPort})`);
  const sipp = track(
    spawn(
      'taskset',
      ['-c', '1', 'sipp', '-sf', scenario, '-t', 'u1', '-i', '127.0.0.1', '-ci', '127.0.0.1', '-cp', String(ctrlPort), '-p', String(sipPort),
        '-mi', '127.0.0.1', '-mp', String(mediaPort), '-nostdin', '-m', String(total), '-timeout', '300s',
        '-trace_err', '-error_file', path.join(dir, 'errors.log'), '-trace_screen', '-screen_file', path.join(dir, 'screen.log')],
      { cwd: dir, stdio: 'ignore', detached: true },
    ),
  );
  const sippExit = new Promise<number | null>((r) => sipp.once('exit', (code) => r(code)));
  await sleep(1000);
  const wire = HAVE_TSHARK ? await startWireCapture(srv.httpPort, sipPort) : undefined;
  try {
    const est: number[] = [];
    const pollRtt: number[] = [];
    let failed = 0;
    for (let i = 0; i < total; i++) {
      const id = `p${i}`;
      const r = await rest(srv.httpPort, 'call/startup', startupBody(id, `sip:${id}@127.0.0.1:${sipPort}`, sipPort));
      if (r.status !== 200) throw new Error(`startup ${id}: ${r.status}`);
      let seen = NaN;
      const deadline = nowMs() + 3000;
      while (nowMs() < deadline) {
        const q = await rest(srv.httpPort, 'call/find', { callId: id });
        pollRtt.push(q.t1 - q.t0);
        if (q.status === 200 && (q.body as { status: string }[])[0]?.status === 'ESTABLISHED') {
          seen = q.t1 - r.t0;
          break;
        }
        await sleep(1);
      }
      if (!Number.isFinite(seen)) failed++;
      else if (i >= 5) est.push(seen);
      await rest(srv.httpPort, 'call/terminate', { callId: id });
      const end = nowMs() + 3000;
      while (nowMs() < end && (await rest(srv.httpPort, 'call/find', { callId: id })).status !== 404) await sleep(2);
      await sleep(20);
    }
    const wireCalls = wire ? await wire.stop() : new Map<string, WireCall>();
    const w = [...wireCalls.values()].filter((c) => Number(c.callId.slice(1)) >= 5);
    const wInvite = w.filter((c) => c.invite !== undefined).map((c) => c.invite! - c.request);
    const wAck = w.filter((c) => c.ack !== undefined).map((c) => c.ack! - c.request);
    const wInvToAck = w.filter((c) => c.ack !== undefined && c.invite !== undefined).map((c) => c.ack! - c.invite!);
    const code = await Promise.race([sippExit, sleep(3000).then(() => 'running')]);
    const errors = existsSync(path.join(dir, 'errors.log')) ? readFileSync(path.join(dir, 'errors.log'), 'utf8').trim() : '';
    print(
      '',
      `### SIPp callee (\`call/sipp_uas_answer.xml\`, 100 + 200 at once), ${est.length} sequential calls after 5 warm-up calls`,
      '',
      ...STAT_HEAD,
      statRow('**startup fetch → /call/find says ESTABLISHED** (1 ms polling: upper bound)', est),
      statRow('one /call/find poll round trip', pollRtt),
      ...(w.length
        ? [
            statRow('wire: startup request → INVITE to SIPp', wInvite),
            statRow('wire: INVITE → ACK (SIPp answers, server processes the 200)', wInvToAck),
            statRow('wire: startup request → ACK to SIPp', wAck),
          ]
        : []),
      '',
      `Calls that never showed ESTABLISHED within 3 s: ${failed}. SIPp exit: ${code}${errors ? `; SIPp errors: ${errors.slice(0, 300)}` : ''}.`,
    );
    report['sipp'] = {
      calls: est.length,
      established: sumStats(est),
      pollRtt: sumStats(pollRtt),
      wire: w.length ? { invite: sumStats(wInvite), inviteToAck: sumStats(wInvToAck), ack: sumStats(wAck) } : null,
      failed,
      sippExit: code,
    };
  } finally {
    await stopChild(sipp, 2000);
    await srv.stop();
  }
}

async function portFree(port: number): Promise<boolean> {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((r) => {
    s.once('error', () => r(false));
    s.bind(port, '127.0.0.1', () => r(true));
  });
  await new Promise<void>((r) => {
    try {
      s.close(() => r());
    } catch {
      r();
    }
  });
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Phase 3: calls per second

interface CallOutcome {
  ok: boolean;
  reason?: string;
  invite?: number;
  http?: number;
  ack?: number;
  bye?: number;
}

async function oneCall(srv: ServerProc, callee: BenchCallee, id: string): Promise<CallOutcome> {
  const r = await rest(srv.httpPort, 'call/startup', startupBody(id, callee.uri(id), callee.port), 5000);
  if (r.status !== 200) return { ok: false, reason: `startup ${r.status}${r.status === 0 ? ` ${String(r.body)}` : ''}` };
  let inv: number;
  let ack: number;
  try {
    inv = await callee.wait(id, 'invite', 5000);
    ack = await callee.wait(id, 'ack', 5000);
  } catch (err) {
    return { ok: false, reason: (err as Error).message.replace(id, '<id>') };
  }
  const holdLeft = HOLD_S * 1000 - (nowMs() - ack);
  if (holdLeft > 0) await sleep(holdLeft);
  const term = await rest(srv.httpPort, 'call/terminate', { callId: id }, 5000);
  if (term.status !== 200) return { ok: false, reason: `terminate ${term.status}` };
  let bye: number;
  try {
    bye = await callee.wait(id, 'bye', 5000);
  } catch {
    return { ok: false, reason: 'no BYE within 5 s' };
  }
  return { ok: true, invite: inv - r.t0, http: r.t1 - r.t0, ack: ack - r.t0, bye: bye - term.t0 };
}

async function phaseCps(): Promise<void> {
  log(`cps: rates ${RATES.join(',')} for ${STEP_S} s each, hold ${HOLD_S} s`);
  const srv = await startServer({ rtpPortMin: SERVER_RTP.min, rtpPortMax: SERVER_RTP.max, maxCalls: MAX_CALLS });
  const callee = await BenchCallee.open({ media: 'sink', portMin: CALLEE_RTP.min, portMax: CALLEE_RTP.max });
  const steps: Json[] = [];
  try {
    // Warm-up (JIT) and idle baseline.
    for (let i = 0; i < 20; i++) await oneCallQuick(srv, callee, `w${i}`);
    await sleep(2000);
    const i0 = procCpuS(srv.pid);
    await sleep(3000);
    const idleCores = (procCpuS(srv.pid) - i0) / 3;
    let best = 0;
    let saturated = 0;
    for (const rate of RATES) {
      const n = Math.round(rate * STEP_S);
      const tag = `r${rate}`;
      let inFlight = 0;
      let peak = 0;
      const promises: Promise<CallOutcome>[] = [];
      const cpu0 = procCpuS(srv.pid);
      const split0 = procCpuSplit(srv.pid);
      const self0 = process.cpuUsage();
      const b0 = cpuBusyTicks();
      const tStart = nowMs();
      let tLast = tStart;
      for (let k = 0; k < n; k++) {
        const wait = tStart + (k * 1000) / rate - nowMs();
        if (wait >= 1) await sleep(wait);
        tLast = nowMs();
        if (inFlight >= MAX_CONC) {
          promises.push(Promise.resolve({ ok: false, reason: 'concurrency bound' }));
          continue;
        }
        inFlight++;
        peak = Math.max(peak, inFlight);
        promises.push(
          oneCall(srv, callee, `${tag}_${k}`).finally(() => {
            inFlight--;
          }),
        );
      }
      const startsS = (nowMs() - tStart) / 1000;
      const cpuStarts = procCpuS(srv.pid) - cpu0;
      const split1 = procCpuSplit(srv.pid);
      const splitAll = split1.user + split1.sys - split0.user - split0.sys;
      const rss = procMem(srv.pid).rssMb;
      const [busy0, busy1] = busyDelta(b0, cpuBusyTicks(), startsS);
      const self = process.cpuUsage(self0);
      const results = await Promise.all(promises);
      const allS = (nowMs() - tStart) / 1000;
      const cpuAll = procCpuS(srv.pid) - cpu0;
      // Calls whose BYE the callee answered leave the server's table when it has processed the 200;
      // a backlogged server takes a while. Wait up to 10 s for the table to drain.
      let leftN = 0;
      const drainUntil = nowMs() + 10_000;
      do {
        await sleep(250);
        const left = await rest(srv.httpPort, 'call/find_all', {});
        leftN = left.status === 200 ? (left.body as unknown[]).length : 0;
      } while (leftN > 0 && nowMs() < drainUntil);
      const drainS = (nowMs() - tStart) / 1000 - allS;
      for (let k = 0; k < n; k++) callee.forget(`${tag}_${k}`);
      const ok = results.filter((r) => r.ok);
      const fails = results.filter((r) => !r.ok);
      const reasons = new Map<string, number>();
      for (const r of fails) reasons.set(r.reason ?? '?', (reasons.get(r.reason ?? '?') ?? 0) + 1);
      if (leftN > 0) reasons.set('still in /call/find_all 10 s after the last BYE', leftN);
      const step = {
        rate,
        started: n,
        ok: ok.length,
        failed: fails.length + leftN,
        reasons: Object.fromEntries(reasons),
        achievedRate: n > 1 ? (n - 1) / ((tLast - tStart) / 1000) : n,
        peakInFlight: peak,
        invite: sumStats(ok.map((r) => r.invite!)),
        http: sumStats(ok.map((r) => r.http!)),
        ack: sumStats(ok.map((r) => r.ack!)),
        bye: sumStats(ok.map((r) => r.bye!)),
        serverCores: cpuStarts / startsS,
        sysShare: splitAll > 0 ? (split1.sys - split0.sys) / splitAll : NaN,
        mainShare: splitAll > 0 ? (split1.mainUser + split1.mainSys - split0.mainUser - split0.mainSys) / splitAll : NaN,
        serverCpuMsPerCall: ((cpuAll - idleCores * allS) * 1000) / n,
        rssMb: rss,
        benchCores: (self.user + self.system) / 1e6 / startsS,
        cpu0Busy: busy0,
        cpu1Busy: busy1,
        leftOver: leftN,
        drainS,
      };
      steps.push(step);
      log(
        `cps ${rate}: ok ${ok.length}/${n}, server ${f(step.serverCores, 3)} cores, ${f(step.serverCpuMsPerCall, 2)} ms/call, ` +
          `→INVITE p50 ${f(step.invite['p50'] as number, 2)} p99 ${f(step.invite['p99'] as number, 2)}, →ACK p99 ${f(step.ack['p99'] as number, 2)} ms` +
          (fails.length ? `, failures ${JSON.stringify(step.reasons)}` : ''),
      );
      if (step.failed > 0) {
        const tail = srv.stderr().trim().split('\n').slice(-8).join('\n');
        if (tail) log(`cps ${rate}: server stderr (last lines):\n${tail}`);
        (step as Json)['serverStderr'] = tail;
        break;
      }
      best = rate;
      if (step.serverCores >= 0.95) {
        saturated = rate;
        break;
      }
      await sleep(1000);
    }
    let quick = 0;
    for (const st of steps) {
      if ((st['failed'] as number) > 0 || !(((st['ack'] as Json)['p99'] as number) <= 100)) break;
      quick = st['rate'] as number;
    }
    const rssEnd = procMem(srv.pid).rssMb;
    log('cps: waiting 40 s for ended calls to be released (64*T1 = 32 s)');
    await sleep(40_000);
    const rssLater = procMem(srv.pid).rssMb;
    print(
      '',
      `### Calls per second: each call held ${HOLD_S} s after its ACK, then terminated; ${STEP_S} s per rate; server idle ${f(idleCores, 3)} cores`,
      '',
      '| rate (cps) | calls | ok | failed | achieved start rate | peak calls in flight | → INVITE p50 / p99 ms | → HTTP 200 p50 / p99 ms | → ACK (≈ ESTABLISHED) p50 / p99 ms | terminate → BYE p50 / p99 ms | server CPU over the starts (cores) | of it system / main thread | server CPU per call, idle subtracted (ms) | server RSS MB | bench process CPU (cores, CPU 1) | CPU 0 / CPU 1 busy, all processes |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...steps.map((s) => {
        const st = (k: string): Json => s[k] as Json;
        const pp = (k: string): string => `${f(st(k)['p50'] as number, 2)} / ${f(st(k)['p99'] as number, 2)}`;
        return `| ${s['rate']} | ${s['started']} | ${s['ok']} | ${s['failed']}${Object.keys(s['reasons'] as Json).length ? ` (${JSON.stringify(s['reasons'])})` : ''} | ${f(s['achievedRate'] as number, 1)} | ${s['peakInFlight']} | ${pp('invite')} | ${pp('http')} | ${pp('ack')} | ${pp('bye')} | ${f(s['serverCores'] as number, 3)} | ${f((s['sysShare'] as number) * 100, 0)} % / ${f((s['mainShare'] as number) * 100, 0)} % | ${f(s['serverCpuMsPerCall'] as number, 2)} | ${f(s['rssMb'] as number, 0)} | ${f(s['benchCores'] as number, 2)} | ${f(s['cpu0Busy'] as number, 2)} / ${f(s['cpu1Busy'] as number, 2)} |`;
      }),
      '',
      `Highest rate with no failure: **${best || 'none'} cps**${best === RATES[RATES.length - 1] ? ' (the highest rate tried)' : ''}` +
        `; highest rate whose startup → ACK p99 stayed ≤ 100 ms: ${quick || 'none'} cps` +
        `${saturated ? ` (the server's CPU was saturated at ${saturated} cps, so the ramp stopped there)` : ''}. ` +
        `Server RSS at the end of the ramp ${f(rssEnd, 0)} MB, 40 s later ${f(rssLater, 0)} MB.`,
    );
    report['cps'] = { idleCores, steps, best, quick, saturated, rssEnd, rssLater };
  } finally {
    await callee.close();
    await srv.stop();
  }
}

/** A warm-up call: startup, ACK, terminate, BYE. */
async function oneCallQuick(srv: ServerProc, callee: BenchCallee, id: string): Promise<void> {
  const r = await rest(srv.httpPort, 'call/startup', startupBody(id, callee.uri(id), callee.port));
  if (r.status !== 200) throw new Error(`warm-up startup ${id}: ${r.status}`);
  await callee.wait(id, 'ack', 5000);
  await rest(srv.httpPort, 'call/terminate', { callId: id });
  await callee.wait(id, 'bye', 5000);
  callee.forget(id);
}

// ---------------------------------------------------------------------------------------------
// Phase 4: concurrent calls with media

interface StreamJson {
  name: string;
  status: string;
  width: number;
  height: number;
}

async function streams(srv: ServerProc): Promise<StreamJson[]> {
  const r = await rest(srv.httpPort, 'stream/find_all', {});
  return r.status === 200 ? (r.body as StreamJson[]) : [];
}

interface Window {
  cores: number;
  wallS: number;
  rssMb: number;
  busy: [number, number];
  /** Shares of the server's CPU: system time, and the main (JS) thread. */
  sysShare: number;
  mainShare: number;
}

async function window(srv: ServerProc, seconds: number): Promise<Window> {
  const c0 = procCpuS(srv.pid);
  const s0 = procCpuSplit(srv.pid);
  const b0 = cpuBusyTicks();
  const t0 = nowMs();
  await sleep(seconds * 1000);
  const wallS = (nowMs() - t0) / 1000;
  const s1 = procCpuSplit(srv.pid);
  const all = s1.user + s1.sys - s0.user - s0.sys;
  return {
    cores: (procCpuS(srv.pid) - c0) / wallS,
    wallS,
    rssMb: procMem(srv.pid).rssMb,
    busy: busyDelta(b0, cpuBusyTicks(), wallS),
    sysShare: all > 0 ? (s1.sys - s0.sys) / all : NaN,
    mainShare: all > 0 ? (s1.mainUser + s1.mainSys - s0.mainUser - s0.mainSys) / all : NaN,
  };
}

async function phaseMedia(): Promise<void> {
  const n = MEDIA_CALLS;
  log(`media: ${n} calls with H.264 + opus RTP from the demo clip`);
  const clip = loadClip(defaultDemoClipPath());
  const srv = await startServer({ rtpPortMin: SERVER_RTP.min, rtpPortMax: SERVER_RTP.max, maxCalls: MAX_CALLS });
  const callee = await BenchCallee.open({ media: 'clip', clip, portMin: CALLEE_RTP.min, portMax: CALLEE_RTP.max, autoStartMedia: false });
  try {
    await sleep(2000);
    const idle = await window(srv, 5);
    log(`media: idle ${f(idle.cores, 3)} cores, RSS ${f(idle.rssMb, 0)} MB`);
    // Set up the calls (media held back until all are up).
    const tSetup = nowMs();
    const setups: Promise<CallOutcome>[] = [];
    for (let k = 0; k < n; k++) {
      const wait = tSetup + (k * 1000) / MEDIA_CPS - nowMs();
      if (wait >= 1) await sleep(wait);
      const id = `m${k}`;
      setups.push(
        (async (): Promise<CallOutcome> => {
          const r = await rest(srv.httpPort, 'call/startup', startupBody(id, callee.uri(id), callee.port));
          if (r.status !== 200) return { ok: false, reason: `startup ${r.status}` };
          try {
            const ack = await callee.wait(id, 'ack', 5000);
            return { ok: true, ack: ack - r.t0 };
          } catch (err) {
            return { ok: false, reason: (err as Error).message };
          }
        })(),
      );
    }
    const setupRes = await Promise.all(setups);
    const established = setupRes.filter((r) => r.ok).length;
    const calls0 = await rest(srv.httpPort, 'call/find', { status: 'ESTABLISHED' });
    const estCount = calls0.status === 200 ? (calls0.body as unknown[]).length : 0;
    log(`media: ${established}/${n} calls answered (${estCount} ESTABLISHED in /call/find) in ${f((nowMs() - tSetup) / 1000, 1)} s`);
    const noMedia = await window(srv, 5);
    log(`media: ${n} calls without media ${f(noMedia.cores, 3)} cores, RSS ${f(noMedia.rssMb, 0)} MB`);
    // Media on, staggered over one second.
    const tMedia = nowMs();
    callee.startMedia(1000);
    let all640 = NaN;
    let st: StreamJson[] = [];
    const deadline = nowMs() + 30_000;
    while (nowMs() < deadline) {
      await sleep(250);
      st = await streams(srv);
      if (st.filter((s) => s.width === 640).length >= established) {
        all640 = (nowMs() - tMedia) / 1000;
        break;
      }
    }
    log(`media: ${st.filter((s) => s.width === 640).length} streams with width 640 after ${f((nowMs() - tMedia) / 1000, 1)} s`);
    await sleep(MEDIA_WARMUP_S * 1000);
    const drops0 = udpDrops(SERVER_RTP.min, SERVER_RTP.max);
    const sent0 = callee.packetsSent;
    const bytes0 = callee.mediaStats().bytes;
    const self0 = process.cpuUsage();
    const win = await window(srv, MEDIA_WINDOW_S);
    const self = process.cpuUsage(self0);
    const sent = callee.packetsSent - sent0;
    const bytes = callee.mediaStats().bytes - bytes0;
    const drops = udpDrops(SERVER_RTP.min, SERVER_RTP.max) - drops0;
    const hwm = procMem(srv.pid).hwmMb;
    const pps = sent / win.wallS;
    const stAfter = await streams(srv);
    const callsAfter = await rest(srv.httpPort, 'call/find', { status: 'ESTABLISHED' });
    const estAfter = callsAfter.status === 200 ? (callsAfter.body as unknown[]).length : 0;
    const ms = callee.mediaStats();
    // Hang up everything.
    const terms = await Promise.all(setupRes.map((_, k) => rest(srv.httpPort, 'call/terminate', { callId: `m${k}` })));
    const byes = await Promise.allSettled(setupRes.map((_, k) => callee.wait(`m${k}`, 'bye', 10_000)));
    await sleep(3000);
    const after = procMem(srv.pid);
    const leftCalls = await rest(srv.httpPort, 'call/find_all', {});
    const leftStreams = await streams(srv);
    const w640 = stAfter.filter((s) => s.width === 640 && s.height === 360).length;
    const publishing = stAfter.filter((s) => s.status === 'PUBLISHING').length;
    const res = {
      calls: n,
      established,
      estInFind: estCount,
      estAfterWindow: estAfter,
      streamsWidth640: w640,
      streamsPublishing: publishing,
      streamsTotal: stAfter.length,
      all640AfterS: all640,
      idle,
      noMedia,
      media: win,
      pps,
      ppsPerCall: pps / Math.max(1, established),
      meanPacketBytes: bytes / Math.max(1, sent),
      udpDropsInWindow: drops,
      cpuPerCallPct: (win.cores / Math.max(1, established)) * 100,
      cpuPerCallMarginalPct: ((win.cores - idle.cores) / Math.max(1, established)) * 100,
      usPerPacketRaw: (win.cores * 1e6) / pps,
      usPerPacketMedia: ((win.cores - noMedia.cores) * 1e6) / pps,
      rssPerCallMb: (win.rssMb - idle.rssMb) / Math.max(1, established),
      hwmMb: hwm,
      rssAfterHangupMb: after.rssMb,
      benchCores: (self.user + self.system) / 1e6 / win.wallS,
      senderRtcpIn: ms.rtcpIn,
      senderKeyframeRequests: ms.keyframeRequests,
      senderKeyframesHonoured: ms.keyframesHonoured,
      terminated: terms.filter((t) => t.status === 200).length,
      byes: byes.filter((b) => b.status === 'fulfilled').length,
      leftCalls: leftCalls.status === 200 ? (leftCalls.body as unknown[]).length : 0,
      leftStreams: leftStreams.length,
    };
    report['media'] = res;
    print(
      '',
      `### ${n} concurrent calls with RTP (demo clip: H.264 640x360 + opus, ${f(res.ppsPerCall, 1)} pps per call), ${MEDIA_WINDOW_S} s window after ${MEDIA_WARMUP_S} s warm-up`,
      '',
      '| state | server CPU (cores) | server RSS MB | CPU 0 / CPU 1 busy, all processes |',
      '|---|---|---|---|',
      `| idle server | ${f(idle.cores, 3)} | ${f(idle.rssMb, 0)} | ${f(idle.busy[0], 2)} / ${f(idle.busy[1], 2)} |`,
      `| ${established} calls ESTABLISHED, no media yet (5 s) | ${f(noMedia.cores, 3)} | ${f(noMedia.rssMb, 0)} | ${f(noMedia.busy[0], 2)} / ${f(noMedia.busy[1], 2)} |`,
      `| **${established} calls with media** | **${f(win.cores, 3)}** | **${f(win.rssMb, 0)}** (peak ${f(hwm, 0)}) | ${f(win.busy[0], 2)} / ${f(win.busy[1], 2)} |`,
      `| after hanging up all (3 s later) | – | ${f(after.rssMb, 0)} | – |`,
      '',
      '| figure | value |',
      '|---|---|',
      `| streams in /stream/find_all with width 640 (height 360) / PUBLISHING / total | ${w640} / ${publishing} / ${stAfter.length} (all 640 wide ${f(all640, 1)} s after media started) |`,
      `| calls ESTABLISHED in /call/find after the window | ${estAfter} |`,
      `| RTP into the server | ${f(pps, 0)} pps (${f(res.ppsPerCall, 1)} per call, mean ${f(res.meanPacketBytes, 0)} B), ${f((bytes * 8) / win.wallS / 1e6, 1)} Mbit/s |`,
      `| **server CPU per call with media** | **${f(res.cpuPerCallPct, 3)} % of a core** (idle subtracted: ${f(res.cpuPerCallMarginalPct, 3)} %) |`,
      `| **server CPU per received packet** | **${f(res.usPerPacketRaw, 1)} µs** raw; ${f(res.usPerPacketMedia, 1)} µs over the no-media state |`,
      `| server RSS per call | ${f(res.rssPerCallMb, 2)} MB (with media, over idle) |`,
      `| server CPU split with media | ${f(win.sysShare * 100, 0)} % system, ${f(win.mainShare * 100, 0)} % on the main (JS) thread |`,
      `| UDP receive drops in the server's RTP sockets during the window | ${drops} |`,
      `| RTCP packets the sender got / keyframe requests / honoured | ${ms.rtcpIn} / ${ms.keyframeRequests} / ${ms.keyframesHonoured} |`,
      `| load generator (this process: REST, SIP, RTP sender) CPU, on CPU 1 | ${f(res.benchCores, 3)} cores |`,
      `| hang-up: terminate 200 / BYE at the callee / calls left / streams left | ${res.terminated} / ${res.byes} / ${res.leftCalls} / ${res.leftStreams} |`,
    );
  } finally {
    await callee.close();
    await srv.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function machineInfo(): Json {
  const cpus = os.cpus();
  return { cpuModel: cpus[0]?.model, cpus: cpus.length, memGb: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version };
}

async function main(): Promise<void> {
  spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${argv['max-minutes']} min, killing everything`);
    killAllChildren();
    process.exit(3);
  }, Number(argv['max-minutes']) * 60_000);
  watchdog.unref();
  log(`repo ${REPO}; phases ${[...PHASES].join(',')}; tshark ${HAVE_TSHARK}; sipp ${HAVE_SIPP}`);
  print(`Call-setup benchmark, ${new Date().toISOString()}; server on CPU 0, load generators on CPU 1; ${os.cpus()[0]?.model ?? ''}, node ${process.version}`);
  const order: [string, () => Promise<void>][] = [
    ['setup', phaseSetup],
    ['sipp', phaseSipp],
    ['cps', phaseCps],
    ['media', phaseMedia],
  ];
  let status = 0;
  for (const [name, fn] of order) {
    if (!PHASES.has(name)) continue;
    try {
      await fn();
    } catch (err) {
      status = 1;
      log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      print('', `**Phase ${name} failed:** ${(err as Error).message}`);
      report[`${name}Error`] = (err as Error).message;
    }
    await sleep(1000);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  const outFile = argv.out ?? path.join(os.tmpdir(), 'sipcast-bench', `callsetup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ machine: machineInfo(), argv, report }, null, 2));
  log(`raw results: ${outFile}`);
  killAllChildren();
  process.exit(status);
}

process.on('exit', killAllChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAllChildren();
    process.exit(130);
  });
}

main().catch((err: Error) => {
  log(`failed: ${err.stack ?? err.message}`);
  killAllChildren();
  process.exit(1);
});
