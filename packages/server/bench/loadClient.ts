/**
 * Load client for the fan-out benchmark: N node-datachannel WebRTC receivers in one process.
 *
 *   taskset -c 1 node --import tsx packages/server/bench/loadClient.ts --url ws://127.0.0.1:18480 --n 50
 *
 * Each receiver opens its own WebSocket, speaks the WCS protocol (connection -> getUserData ->
 * playStream with a recvonly offer -> setRemoteSDP + notifyStreamStatusEvent PLAYING, pong on
 * ping), offers audio (mid 0, Opus PT 111) and video (mid 1, H.264 PT 96, 42e01f pm=1) as
 * node-datachannel's offerer, and attaches an RtcpReceivingSession to each track so it answers
 * the server's sender reports with RR + REMB, like a browser does (less often than Chromium).
 *
 * Options: --url, --n, --stream (default bench), --concurrency (parallel set-ups, default 8),
 *          --port-min/--port-max (client ICE ports, default 50000-59999), --timeout-ms (per receiver).
 *
 * stdout, one JSON object per line:
 *   {"type":"progress", n, playing, receiving, failed, errors:[...]}   every second
 *   {"type":"snap", tMs, cpuUserUs, cpuSystemUs, rssBytes, rx:[[vPkts,aPkts,vBytes,aBytes,rtcp,
 *     pcBytesIn,vLost,aLost],...]}                                       on the stdin line "snap"
 * stdin "quit" (or SIGTERM/SIGINT) closes every receiver and exits.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import ndc from 'node-datachannel';
import WebSocket from 'ws';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080' },
    n: { type: 'string', default: '1' },
    stream: { type: 'string', default: 'bench' },
    concurrency: { type: 'string', default: '8' },
    'port-min': { type: 'string', default: '50000' },
    'port-max': { type: 'string', default: '59999' },
    'timeout-ms': { type: 'string', default: '30000' },
  },
});
const N = Number(opts.n);
const CONCURRENCY = Math.max(1, Number(opts.concurrency));
const TIMEOUT_MS = Number(opts['timeout-ms']);
const H264_FMTP = 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f';

/** Counts RTP packets of one track and estimates loss from sequence numbers. */
class TrackCounter {
  packets = 0;
  bytes = 0;
  rtcp = 0;
  #firstExt = -1;
  #maxExt = -1;
  #cycles = 0;
  #lastSeq = -1;

  onMessage(msg: Buffer): void {
    if (msg.length < 12) return;
    const b1 = msg[1]!;
    if (b1 >= 192 && b1 <= 223) {
      this.rtcp++;
      return;
    }
    this.packets++;
    this.bytes += msg.length;
    const seq = msg.readUInt16BE(2);
    if (this.#lastSeq >= 0 && seq < 0x1000 && this.#lastSeq > 0xf000) this.#cycles += 0x10000;
    this.#lastSeq = seq;
    const ext = this.#cycles + seq;
    if (this.#firstExt < 0) this.#firstExt = ext;
    if (ext > this.#maxExt) this.#maxExt = ext;
  }

  /** Packets expected from the sequence numbers minus packets received (never negative). */
  get lost(): number {
    if (this.#firstExt < 0) return 0;
    return Math.max(0, this.#maxExt - this.#firstExt + 1 - this.packets);
  }
}

class Receiver {
  readonly index: number;
  readonly mediaSessionId = randomUUID();
  readonly video = new TrackCounter();
  readonly audio = new TrackCounter();
  status = 'NEW';
  error = '';
  #ws: WebSocket | undefined;
  #pc: ndc.PeerConnection | undefined;
  #tracks: ndc.Track[] = [];
  #closed = false;

  constructor(index: number) {
    this.index = index;
  }

  get pcBytesIn(): number {
    try {
      return this.#pc?.bytesReceived() ?? 0;
    } catch {
      return 0;
    }
  }

  /** Resolves once both tracks are open and the server said PLAYING; rejects on failure. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let openTracks = 0;
      let playing = false;
      const timer = setTimeout(() => fail(`timeout in state ${this.status}`), TIMEOUT_MS);
      const done = (): void => {
        if (openTracks === 2 && playing) {
          clearTimeout(timer);
          this.status = 'PLAYING';
          resolve();
        }
      };
      const fail = (why: string): void => {
        clearTimeout(timer);
        this.status = 'FAILED';
        this.error = why;
        reject(new Error(`receiver ${this.index}: ${why}`));
      };
      const ws = new WebSocket(opts.url!, { perMessageDeflate: false });
      this.#ws = ws;
      const send = (message: string, data: unknown[]): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ message, data }));
      };
      ws.on('error', (err) => fail(`websocket: ${err.message}`));
      ws.on('close', () => {
        if (this.status !== 'PLAYING' && !this.#closed) fail('websocket closed');
      });
      ws.on('open', () => {
        this.status = 'CONNECTING';
        send('connection', [{ appKey: 'defaultApp', mediaProviders: ['WebRTC'], clientVersion: 'sipcast-bench' }]);
      });
      ws.on('message', (raw) => {
        let frame: { message?: string; data?: unknown[] };
        try {
          frame = JSON.parse(raw.toString());
        } catch {
          return;
        }
        const data = frame.data ?? [];
        switch (frame.message) {
          case 'ping':
            send('pong', [null]);
            break;
          case 'getUserData':
            this.status = 'OFFERING';
            this.#offer(
              (track) => {
                track.onOpen(() => {
                  openTracks++;
                  done();
                });
              },
            ).then(
              (sdp) => {
                this.status = 'PENDING';
                send('playStream', [
                  {
                    mediaSessionId: this.mediaSessionId,
                    name: opts.stream,
                    published: false,
                    hasVideo: true,
                    hasAudio: true,
                    status: 'PENDING',
                    record: false,
                    mediaProvider: 'WebRTC',
                    sdp,
                  },
                ]);
              },
              (err: Error) => fail(`offer: ${err.message}`),
            );
            break;
          case 'setRemoteSDP':
            if (data[0] !== this.mediaSessionId || typeof data[1] !== 'string') break;
            try {
              this.#pc?.setRemoteDescription(data[1], 'answer');
              this.status = 'ANSWERED';
            } catch (err) {
              fail(`setRemoteDescription: ${(err as Error).message}`);
            }
            break;
          case 'notifyStreamStatusEvent': {
            const ev = data[0] as { mediaSessionId?: string; status?: string; info?: string } | undefined;
            if (!ev || ev.mediaSessionId !== this.mediaSessionId) break;
            if (ev.status === 'PLAYING') {
              playing = true;
              done();
            } else if (ev.status === 'FAILED' || ev.status === 'STOPPED') {
              fail(`stream ${ev.status}: ${ev.info ?? ''}`);
            }
            break;
          }
          case 'fail':
            fail(`server fail: ${JSON.stringify(data[0])}`);
            break;
          default:
            break;
        }
      });
    });
  }

  async #offer(onTrack: (t: ndc.Track) => void): Promise<string> {
    const pc = new ndc.PeerConnection(`rx${this.index}`, {
      iceServers: [],
      bindAddress: '127.0.0.1',
      portRangeBegin: Number(opts['port-min']),
      portRangeEnd: Number(opts['port-max']),
    });
    this.#pc = pc;
    const audio = new ndc.Audio('0', 'RecvOnly');
    audio.addOpusCodec(111);
    const video = new ndc.Video('1', 'RecvOnly');
    video.addH264Codec(96, H264_FMTP);
    const at = pc.addTrack(audio);
    const vt = pc.addTrack(video);
    this.#tracks = [at, vt];
    at.setMediaHandler(new ndc.RtcpReceivingSession());
    vt.setMediaHandler(new ndc.RtcpReceivingSession());
    at.onMessage((msg) => this.audio.onMessage(msg));
    vt.onMessage((msg) => this.video.onMessage(msg));
    onTrack(at);
    onTrack(vt);
    const gathered = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      pc.onGatheringStateChange((state) => {
        if (state === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    pc.setLocalDescription();
    if (pc.gatheringState() !== 'complete') await gathered;
    const local = pc.localDescription();
    if (!local) throw new Error('no local description');
    return local.sdp;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#tracks) {
      try {
        t.close();
      } catch {
        /* gone */
      }
    }
    try {
      this.#pc?.close();
    } catch {
      /* gone */
    }
    try {
      this.#ws?.terminate();
    } catch {
      /* gone */
    }
  }
}

const receivers: Receiver[] = [];
for (let i = 0; i < N; i++) receivers.push(new Receiver(i));
let failed = 0;
const errors: string[] = [];

function write(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function progress(): void {
  write({
    type: 'progress',
    n: N,
    playing: receivers.filter((r) => r.status === 'PLAYING').length,
    receiving: receivers.filter((r) => r.video.packets > 0 && r.audio.packets > 0).length,
    failed,
    errors: errors.slice(0, 5),
  });
}

function snap(): void {
  const cpu = process.cpuUsage();
  write({
    type: 'snap',
    tMs: performance.now(),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rssBytes: process.memoryUsage().rss,
    rx: receivers.map((r) => [r.video.packets, r.audio.packets, r.video.bytes, r.audio.bytes, r.video.rtcp + r.audio.rtcp, r.pcBytesIn, r.video.lost, r.audio.lost]),
  });
}

const progressTimer = setInterval(progress, 1000);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(progressTimer);
  for (const r of receivers) r.close();
  const force = setTimeout(() => process.exit(0), 2000);
  force.unref();
  setTimeout(() => {
    try {
      ndc.cleanup();
    } catch {
      /* ignore */
    }
    process.exit(0);
  }, 200);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'snap') snap();
  else if (cmd === 'progress') progress();
  else if (cmd === 'quit') stop();
});

async function run(): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < receivers.length && !stopping) {
      const r = receivers[next++]!;
      try {
        await r.start();
      } catch (err) {
        failed++;
        if (errors.length < 20) errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, N) }, worker));
  progress();
}

run().catch((err: Error) => {
  process.stderr.write(`loadClient: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
