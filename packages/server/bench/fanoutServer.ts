/**
 * Fan-out benchmark server: a SipcastServer (demo off) plus one synthetic publisher stream.
 *
 *   taskset -c 0 node --import tsx packages/server/bench/fanoutServer.ts
 *
 * Environment: the usual SIPCAST_* settings (SIPCAST_WS_PORT, SIPCAST_HTTP_PORT,
 * SIPCAST_SRTP_PREFER_GCM, SIPCAST_ICE_UDP_MUX, ...); SIPCAST_DEMO is forced to false, and
 * SIPCAST_SIP_PORT defaults to 0 (a free port) and SIPCAST_DEMO_CALLEE to false.
 * BENCH_STREAM names the stream (default "bench").
 *
 * The synthetic source is shaped like a 1 Mbit/s H.264 + Opus SIP call: 25 fps video in FU-A
 * fragments of 1000-1200 bytes (5-6 per frame, marker on the last one, ~140 pps), an SPS+PPS
 * STAP-A followed by a larger IDR every 10 s and whenever the stream asks for a keyframe, and
 * 50 Opus packets/s of ~160 bytes. Each packet is a fresh Buffer (the stream takes ownership).
 *
 * stdout, one JSON object per line:
 *   {"type":"ready", wsPort, httpPort, pid}                    once listening
 *   {"type":"stats", ...}                                       every second, and at once on
 *                                                               the stdin line "stats"
 *   {"type":"threads", threads:[{tid, name, cpuTicks}], hz}     on the stdin line "threads"
 * Counters in "stats" are cumulative since start; the reader takes differences.
 * stdin "quit" (or SIGTERM/SIGINT) stops the server and exits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { loadSettings } from '../src/config/Settings.js';
import { SipcastServer } from '../src/SipcastServer.js';
import type { LiveStream } from '../src/registry/LiveStream.js';

const STREAM_NAME = process.env['BENCH_STREAM'] || 'bench';
const FPS = 25;
const FRAME_MS = 1000 / FPS;
const AUDIO_MS = 20;
const GOP_FRAMES = 10 * FPS;
/** Packets per frame, cycled: 28 packets per 5 frames = 140 pps at 25 fps. */
const FRAME_PACKETS = [6, 6, 6, 5, 5];
const IDR_PACKETS = 16;
const VIDEO_PT = 96;
const AUDIO_PT = 111;
const VIDEO_SSRC = 0x11111111;
const AUDIO_SSRC = 0x22222222;
/** A real constrained-baseline 640x360 SPS (packages/server/src/rtp/fixtures/sps-base640x360.hex). */
const SPS = Buffer.from('6742c01ed900a02ff97011000003000100000300320f162e48', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');

/** Random payload bytes, copied from rather than generated per packet. */
const POOL = randomBytes(64 * 1024);

function randInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

function rtpHeader(buf: Buffer, pt: number, marker: boolean, seq: number, ts: number, ssrc: number): void {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | pt;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(ts >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

function fillRandom(buf: Buffer, from: number): void {
  let p = from;
  while (p < buf.length) {
    const n = Math.min(buf.length - p, 4096);
    const src = randInt(0, POOL.length - n);
    POOL.copy(buf, p, src, src + n);
    p += n;
  }
}

class SyntheticSource {
  readonly #stream: LiveStream;
  #vSeq = randInt(0, 0xffff);
  #aSeq = randInt(0, 0xffff);
  #vTs = randInt(0, 0x7fffffff);
  #aTs = randInt(0, 0x7fffffff);
  #frame = 0;
  #framesSinceKey = 0;
  #keyWanted = true;
  #t0 = 0;
  #videoDue = 0;
  #audioDue = 0;
  #timer: NodeJS.Timeout | undefined;
  pushed = { audio: 0, video: 0 };
  /** Sum over pushed packets of the stream's sink count at push time. */
  forwarded = 0;
  keyframesSent = 0;
  keyframeRequests = 0;

  constructor(stream: LiveStream) {
    this.#stream = stream;
  }

  requestKeyframe(): void {
    this.keyframeRequests++;
    this.#keyWanted = true;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#tick();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick = (): void => {
    const elapsed = performance.now() - this.#t0;
    while (this.#audioDue * AUDIO_MS <= elapsed) {
      this.#sendAudio();
      this.#audioDue++;
    }
    while (this.#videoDue * FRAME_MS <= elapsed) {
      this.#sendFrame();
      this.#videoDue++;
    }
    const next = Math.min(this.#audioDue * AUDIO_MS, this.#videoDue * FRAME_MS);
    this.#timer = setTimeout(this.#tick, Math.max(0, next - (performance.now() - this.#t0)));
  };

  #push(kind: 'audio' | 'video', pkt: Buffer): void {
    this.pushed[kind]++;
    this.forwarded += this.#stream.sinkCount;
    this.#stream.pushRtp(kind, pkt);
  }

  #sendAudio(): void {
    const pkt = Buffer.allocUnsafe(12 + randInt(136, 172));
    rtpHeader(pkt, AUDIO_PT, false, this.#aSeq++, this.#aTs, AUDIO_SSRC);
    this.#aTs += 960;
    pkt[12] = 0xfc; // Opus TOC: CELT FB 20 ms, one frame
    fillRandom(pkt, 13);
    this.#push('audio', pkt);
  }

  #sendFrame(): void {
    const key = this.#keyWanted || this.#framesSinceKey >= GOP_FRAMES;
    const count = key ? IDR_PACKETS : FRAME_PACKETS[this.#frame % FRAME_PACKETS.length]!;
    const ts = this.#vTs;
    if (key) {
      this.#keyWanted = false;
      this.#framesSinceKey = 0;
      this.keyframesSent++;
      // STAP-A: SPS + PPS, as x264 sends before each IDR.
      const stap = Buffer.allocUnsafe(12 + 1 + 2 + SPS.length + 2 + PPS.length);
      rtpHeader(stap, VIDEO_PT, false, this.#vSeq++, ts, VIDEO_SSRC);
      let p = 12;
      stap[p++] = 0x78; // F=0 NRI=3 type 24
      stap.writeUInt16BE(SPS.length, p);
      p += 2;
      SPS.copy(stap, p);
      p += SPS.length;
      stap.writeUInt16BE(PPS.length, p);
      p += 2;
      PPS.copy(stap, p);
      this.#push('video', stap);
    }
    const nalType = key ? 5 : 1;
    const indicator = key ? 0x7c : 0x5c; // NRI 3 / 2, type 28 (FU-A)
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const pkt = Buffer.allocUnsafe(randInt(1000, 1200));
      rtpHeader(pkt, VIDEO_PT, last, this.#vSeq++, ts, VIDEO_SSRC);
      pkt[12] = indicator;
      pkt[13] = (i === 0 ? 0x80 : 0) | (last ? 0x40 : 0) | nalType;
      fillRandom(pkt, 14);
      this.#push('video', pkt);
    }
    this.#vTs += 90000 / FPS;
    this.#frame++;
    this.#framesSinceKey++;
  }
}

function threadCpu(): { tid: number; name: string; cpuTicks: number }[] {
  const out: { tid: number; name: string; cpuTicks: number }[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      // fields after ")": state(0) ... utime(11) stime(12)
      out.push({ tid: Number(tid), name, cpuTicks: Number(f[11]) + Number(f[12]) });
    } catch {
      // thread exited meanwhile
    }
  }
  return out;
}

async function main(): Promise<void> {
  // No demo stream; SIP on a free port and no demo callee, so nothing else runs in this process
  // and nothing collides with another sipcast on this machine.
  const settings = loadSettings({
    SIPCAST_LOG_LEVEL: 'warn',
    SIPCAST_SIP_PORT: '0',
    SIPCAST_DEMO_CALLEE: 'false',
    ...process.env,
    SIPCAST_DEMO: 'false',
  });
  const server = new SipcastServer(settings);
  await server.start();
  const stream = server.registry.create(STREAM_NAME, 'bench');
  const source = new SyntheticSource(stream);
  stream.attachPublisher(
    { canProduceKeyframe: true, requestKeyframe: () => source.requestKeyframe() },
    {
      audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
      video: { kind: 'video', codec: 'H264', clockRate: 90000, profileLevelId: '42c01e' },
    },
  );
  source.start();

  const write = (obj: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify(obj)}\n`);
  };
  const stats = (): void => {
    const cpu = process.cpuUsage();
    const ru = process.resourceUsage();
    const mem = process.memoryUsage();
    write({
      type: 'stats',
      tMs: performance.now(),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      maxRssKb: ru.maxRSS,
      volCtxSw: ru.voluntaryContextSwitches,
      involCtxSw: ru.involuntaryContextSwitches,
      sinks: stream.sinkCount,
      pushedAudio: source.pushed.audio,
      pushedVideo: source.pushed.video,
      forwarded: source.forwarded,
      keyframesSent: source.keyframesSent,
      keyframeRequests: source.keyframeRequests,
      sinkErrors: stream.counters.sinkErrors,
      viewersCreated: server.playback.viewersCreated,
    });
  };
  const statsTimer = setInterval(stats, 1000);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(statsTimer);
    source.stop();
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    server.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stats') stats();
    else if (cmd === 'threads') write({ type: 'threads', tMs: performance.now(), threads: threadCpu() });
    else if (cmd === 'quit') stop();
  });
  write({ type: 'ready', wsPort: server.wsPort, httpPort: server.httpPort, pid: process.pid, stream: STREAM_NAME });
}

main().catch((err: Error) => {
  process.stderr.write(`fanoutServer: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
