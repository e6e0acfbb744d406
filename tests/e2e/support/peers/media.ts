/**
 * Media the peers send, generated on demand into .run/peers-media/ (git-ignored) and reused while present:
 *
 *  baresip (video via avformat -> libx264, audio via aufile):
 *    testsrc_640x360_25fps.mp4   testsrc2, H.264, VIDEO ONLY (baresip 1.0.0 aborts on an mp4 with an AAC track), 120 s
 *    tone_48k_mono.wav           440 Hz, 48 kHz mono s16, 420 s (longer than any call; baresip stops at EOF)
 *  SIPp (pcap_play / rtp_stream; payload types are sent as recorded: H.264 96, PCMU 0, PCMA 8, opus 111):
 *    av_h264_{pcmu,pcma,opus}.pcap  audio to udp 7100 + H.264 to udp 7102, 60 s (one play_pcap_audio sends
 *                                   audio to the offer's audio port and video to audio port + 2)
 *    h264_pt96.pcap                 H.264 only, 60 s (play_pcap_video -> offer's video port)
 *    tone_8k.pcmu / tone_8k.pcma    raw G.711 for rtp_stream (looped by SIPp), 60 s
 *
 * The pcaps are made without tshark: ffmpeg packetizes to RTP over loopback UDP (faster than real time) into a
 * socket of this process, and the capture times are derived from the RTP timestamps (so SIPp replays at the
 * correct pace and audio/video stay aligned). H.264: libx264 constrained baseline, one slice per frame,
 * GOP 50 (IDR every 2 s), SPS+PPS in-band (STAP-A) before every IDR, FU-A fragments <= 1200 bytes.
 *
 * CLI: `npx tsx tests/e2e/support/peers/media.ts [--force]` (or tests/peers/media.sh).
 */
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseRtp, writePcap, type PcapPacket } from './pcap';
import { RUN_ROOT, requireBinary, runBounded } from './process';

export const MEDIA_DIR = path.join(RUN_ROOT, 'peers-media');
/** Bump when the generated content changes; a mismatch regenerates everything. */
const MEDIA_VERSION = '1';
export const PCAP_SECONDS = 60;

export const MEDIA_FILES = {
  mp4: path.join(MEDIA_DIR, 'testsrc_640x360_25fps.mp4'),
  wav: path.join(MEDIA_DIR, 'tone_48k_mono.wav'),
  avPcmu: path.join(MEDIA_DIR, 'av_h264_pcmu.pcap'),
  avPcma: path.join(MEDIA_DIR, 'av_h264_pcma.pcap'),
  avOpus: path.join(MEDIA_DIR, 'av_h264_opus.pcap'),
  h264: path.join(MEDIA_DIR, 'h264_pt96.pcap'),
  pcmuRaw: path.join(MEDIA_DIR, 'tone_8k.pcmu'),
  pcmaRaw: path.join(MEDIA_DIR, 'tone_8k.pcma'),
} as const;

export type MediaUser = 'baresip' | 'sipp';

const ffmpegBase = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
const X264 = [
  '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-x264-params', 'sliced-threads=0',
  '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '50', '-keyint_min', '50', '-bf', '0', '-b:v', '800k',
];

async function ffmpeg(args: string[], timeoutMs: number, what: string): Promise<void> {
  const r = await runBounded(`ffmpeg (${what})`, requireBinary('ffmpeg'), [...ffmpegBase, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`ffmpeg (${what}) failed with code ${r.code}: ${r.stderr.slice(-2000)}`);
}

/** Writes `file` via a temp file + rename, so a half-written file is never taken for a cached one. */
async function produce(file: string, make: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(file)) return;
  const tmp = `${file}.tmp-${process.pid}${path.extname(file)}`;
  try {
    await make(tmp);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

interface RtpCapture {
  packets: { payload: Buffer; seq: number; ts: number }[];
}

/** Runs ffmpeg with an RTP output to a local UDP socket and returns the packets (checked for gaps). */
async function captureRtp(inputArgs: string[], encodeArgs: string[], pktSize: number, readrate: number, what: string): Promise<RtpCapture> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  try {
    sock.setRecvBufferSize(4 * 1024 * 1024);
  } catch {
    /* limited by net.core.rmem_max */
  }
  const port = sock.address().port;
  const packets: RtpCapture['packets'] = [];
  sock.on('message', (msg) => {
    const h = parseRtp(msg);
    if (h) packets.push({ payload: Buffer.from(msg), seq: h.sequence, ts: h.timestamp });
  });
  try {
    await ffmpeg(
      [
        '-readrate', String(readrate), ...inputArgs, '-t', String(PCAP_SECONDS), ...encodeArgs,
        '-f', 'rtp', `rtp://127.0.0.1:${port}?pkt_size=${pktSize}&localaddr=127.0.0.1`,
      ],
      PCAP_SECONDS * 1000 + 60_000,
      what,
    );
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    sock.close();
  }
  if (packets.length === 0) throw new Error(`media: ${what}: no RTP received`);
  for (let i = 1; i < packets.length; i++) {
    if (((packets[i - 1]!.seq + 1) & 0xffff) !== packets[i]!.seq) {
      throw new Error(`media: ${what}: RTP gap/reorder at packet ${i} (seq ${packets[i - 1]!.seq} -> ${packets[i]!.seq})`);
    }
  }
  return { packets };
}

async function captureRtpRetry(inputArgs: string[], encodeArgs: string[], pktSize: number, what: string): Promise<RtpCapture> {
  try {
    return await captureRtp(inputArgs, encodeArgs, pktSize, 10, what);
  } catch (err) {
    if (!/gap/.test((err as Error).message)) throw err;
    return captureRtp(inputArgs, encodeArgs, pktSize, 1, what); // real time: no burst, no loss
  }
}

/** Capture times from RTP timestamps; packets sharing a timestamp (fragments of one frame) are 100 us apart. */
function timed(cap: RtpCapture, clockRate: number, srcPort: number, dstPort: number, baseUs: number): PcapPacket[] {
  const ts0 = cap.packets[0]!.ts;
  let lastTs = -1;
  let frag = 0;
  return cap.packets.map((p) => {
    const rel = (p.ts - ts0) >>> 0;
    frag = rel === lastTs ? frag + 1 : 0;
    lastTs = rel;
    return { timeUs: baseUs + Math.round((rel * 1e6) / clockRate) + frag * 100, srcPort, dstPort, payload: p.payload };
  });
}

const BASE_US = 1_700_000_000 * 1e6;

function sortByTime(p: PcapPacket[]): PcapPacket[] {
  return p.sort((a, b) => a.timeUs - b.timeUs);
}

const SINE8K = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:samples_per_frame=160'];

async function makeSippMedia(): Promise<void> {
  const pcaps = [MEDIA_FILES.avPcmu, MEDIA_FILES.avPcma, MEDIA_FILES.avOpus, MEDIA_FILES.h264];
  const raws = [
    produce(MEDIA_FILES.pcmuRaw, (tmp) => ffmpeg([...SINE8K, '-t', String(PCAP_SECONDS), '-ac', '1', '-c:a', 'pcm_mulaw', '-f', 'mulaw', tmp], 60_000, 'tone_8k.pcmu')),
    produce(MEDIA_FILES.pcmaRaw, (tmp) => ffmpeg([...SINE8K, '-t', String(PCAP_SECONDS), '-ac', '1', '-c:a', 'pcm_alaw', '-f', 'alaw', tmp], 60_000, 'tone_8k.pcma')),
  ];
  if (pcaps.every((f) => existsSync(f))) {
    await Promise.all(raws);
    return;
  }
  const [video, pcmu, pcma, opus] = await Promise.all([
    captureRtpRetry(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'], [...X264, '-payload_type', '96'], 1200, 'H.264 RTP'),
    captureRtpRetry(SINE8K, ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1', '-payload_type', '0'], 172, 'PCMU RTP'),
    captureRtpRetry(SINE8K, ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1', '-payload_type', '8'], 172, 'PCMA RTP'),
    captureRtpRetry(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'], ['-c:a', 'libopus', '-b:a', '32k', '-ac', '2', '-payload_type', '111'], 1200, 'opus RTP'),
    ...raws,
  ]);
  const v = timed(video!, 90000, 7102, 7102, BASE_US);
  const write = (file: string, packets: PcapPacket[]) =>
    produce(file, async (tmp) => writeFileSync(tmp, writePcap(sortByTime(packets))));
  await write(MEDIA_FILES.avPcmu, [...v, ...timed(pcmu!, 8000, 7100, 7100, BASE_US)]);
  await write(MEDIA_FILES.avPcma, [...v, ...timed(pcma!, 8000, 7100, 7100, BASE_US)]);
  await write(MEDIA_FILES.avOpus, [...v, ...timed(opus!, 48000, 7100, 7100, BASE_US)]);
  await write(MEDIA_FILES.h264, timed(video!, 90000, 7002, 7002, BASE_US));
}

async function makeBaresipMedia(): Promise<void> {
  await Promise.all([
    produce(MEDIA_FILES.mp4, (tmp) =>
      ffmpeg(
        ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '120', '-an', '-c:v', 'libx264', '-preset', 'veryfast',
          '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '50', '-bf', '0', '-f', 'mp4', tmp],
        180_000,
        'baresip mp4',
      ),
    ),
    produce(MEDIA_FILES.wav, (tmp) =>
      ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '420', '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', tmp], 60_000, 'baresip wav'),
    ),
  ]);
}

let pending: Promise<void> | null = null;

function checkVersion(): void {
  mkdirSync(MEDIA_DIR, { recursive: true });
  const vfile = path.join(MEDIA_DIR, 'VERSION');
  const have = existsSync(vfile) ? readFileSync(vfile, 'utf8').trim() : '';
  if (have !== MEDIA_VERSION) {
    for (const f of Object.values(MEDIA_FILES)) rmSync(f, { force: true });
    writeFileSync(vfile, `${MEDIA_VERSION}\n`);
  }
}

/**
 * Makes sure the media for the given peers exist (generating what is missing; a cold run takes ~10-20 s).
 * Returns the file paths. Concurrent callers in one process share the work.
 */
export async function ensurePeerMedia(users: MediaUser[] = ['baresip', 'sipp']): Promise<typeof MEDIA_FILES> {
  const run = async () => {
    checkVersion();
    await Promise.all([users.includes('baresip') ? makeBaresipMedia() : null, users.includes('sipp') ? makeSippMedia() : null]);
  };
  const prev = pending ?? Promise.resolve();
  const mine = prev.catch(() => undefined).then(run);
  pending = mine;
  await mine;
  return MEDIA_FILES;
}

// CLI: npx tsx tests/e2e/support/peers/media.ts [--force]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--force')) rmSync(MEDIA_DIR, { recursive: true, force: true });
  const t0 = Date.now();
  ensurePeerMedia()
    .then((files) => {
      console.log(`peer media ready in ${MEDIA_DIR} (${Date.now() - t0} ms)`);
      for (const [k, f] of Object.entries(files)) console.log(`  ${k.padEnd(8)} ${path.basename(f)}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
