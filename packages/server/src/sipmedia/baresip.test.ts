/**
 * Real-peer check: baresip 1.0.0 as an auto-answering callee (as in /work/shared/peers/README.md
 * §3), called with our SDP offer through a minimal hand-written UDP INVITE/ACK/BYE (the real SIP
 * stack lives elsewhere). RtpSession must receive its H.264 and opus, and requestKeyframe() must
 * make it send a fresh IDR (keyframe-on-demand.md §0, §7).
 *
 * Skipped only when /usr/bin/baresip is absent. Everything runs on 127.0.0.1 in a temp folder;
 * baresip runs with its own -t limit and is killed by PID at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { MediaKind } from '../media/MediaTypes.js';
import { rtpPayloadEnd, rtpPayloadOffset, rtpPayloadType, rtpSsrc, rtpTimestamp } from '../rtp/RtpHeader.js';
import { Logger } from '../util/Logger.js';
import { RtpSession } from './RtpSession.js';
import { buildSipOffer, describeMedia, parseSipAnswer, type SipOfferParams } from './SipSdp.js';

const BARESIP = '/usr/bin/baresip';
const SKIP = existsSync(BARESIP) ? false : `${BARESIP} is absent: real-peer check against baresip skipped`;
/** baresip's RTP range: nobody else uses it (the peers README uses 20000-20099, the keyframe study 21000-21099). */
const BARESIP_RTP_PORTS = '27000-27099';
/** Our RtpSession's range for this test. */
const OUR_PORT_MIN = 27200;
const OUR_PORT_MAX = 27299;
const DEBUG = process.env['SIPMEDIA_BARESIP_DEBUG'] === '1';

const execFileP = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('baresip callee: H.264 + opus arrive, requestKeyframe() yields an IDR within 500 ms', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sipmedia-baresip-'));
  let baresip: ChildProcess | undefined;
  let uac: MiniUac | undefined;
  let session: RtpSession | undefined;
  const baresipLog: string[] = [];
  try {
    // ---- baresip setup: own config dir, free ports, generated media ----
    const sipPort = await freePort(true);
    const ctrlPort = await freePort(false);
    await makeMedia(dir);
    await writeBaresipConfig(dir, sipPort, ctrlPort);
    baresip = spawn(BARESIP, ['-f', dir, '-t', '100', '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [baresip.stdout!, baresip.stderr!]) {
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        baresipLog.push(d);
        if (DEBUG) process.stderr.write(`[baresip] ${d}`);
      });
    }
    await waitFor(() => baresipLog.join('').includes('baresip is ready.'), 'baresip start', 15_000, baresip);

    // ---- our media side ----
    session = await RtpSession.open({
      bindAddress: '127.0.0.1',
      portMin: OUR_PORT_MIN,
      portMax: OUR_PORT_MAX,
      kinds: ['audio', 'video'],
      log: new Logger(DEBUG ? 'debug' : 'warn', 'baresip-test'),
    });
    const offerParams: SipOfferParams = {
      address: '127.0.0.1',
      sessionId: Date.now(),
      audio: { port: session.ports.audio!.rtp, codecs: ['opus', 'PCMU', 'PCMA'] },
      video: { port: session.ports.video!.rtp },
    };
    const rx = new MediaProbe();

    // ---- INVITE / 200 / ACK ----
    uac = await MiniUac.open(sipPort);
    const ok = await uac.invite(buildSipOffer(offerParams));
    t.diagnostic(`INVITE answered: ${ok.status} ${ok.reason}`);
    const answer = parseSipAnswer(ok.body, offerParams);
    if (DEBUG) process.stderr.write(`answer SDP:\n${ok.body}\n`);
    assert.deepEqual(answer.rejected, [], JSON.stringify(answer.rejectReasons));
    assert.ok(answer.audio && answer.video);
    assert.equal(answer.audio.codec, 'opus');
    assert.equal(answer.audio.payloadType, 111);
    assert.equal(answer.video.codec, 'H264');
    assert.equal(answer.video.payloadType, 96);
    assert.equal(answer.video.rtcpPort, answer.video.port + 1, 'no a=rtcp: RTCP at m-port + 1');
    assert.equal(describeMedia(answer).video?.profileLevelId, '42e01f');
    t.diagnostic(
      `answer: audio ${answer.audio.codec}/${answer.audio.clockRate} PT ${answer.audio.payloadType} te=${String(answer.audio.telephoneEventPt)} ` +
        `port ${answer.audio.port}; video H264 PT ${answer.video.payloadType} ${String(answer.video.profileLevelId)} port ${answer.video.port}/${answer.video.rtcpPort}`,
    );
    session.start(answer, rx, { initAlways: true, inactivityTimeoutMs: 5000, latching: 'off' });
    let inactive = false;
    session.on('inactive', () => (inactive = true));

    // ---- media arrives ----
    await waitFor(() => rx.count.audio >= 25 && rx.count.video >= 50, 'opus and H.264 RTP', 10_000);
    assert.deepEqual([...rx.pts.audio], [111]);
    assert.deepEqual([...rx.pts.video], [96]);
    if (answer.video.ssrc !== undefined) assert.equal(rx.ssrc.video, answer.video.ssrc, 'a=ssrc matches the RTP');
    if (answer.audio.ssrc !== undefined) assert.equal(rx.ssrc.audio, answer.audio.ssrc);
    t.diagnostic(`received ${rx.count.audio} opus and ${rx.count.video} H.264 packets; keyframes so far at ts ${[...rx.keyframes.keys()].join(',') || 'none'}`);

    // ---- keyframe on demand ----
    let got: { latencyMs: number; sentAt: number; attempt: number; ts: number } | undefined;
    for (let attempt = 1; attempt <= 3 && !got; attempt++) {
      // random phase: requests in step with frame arrival can keep hitting baresip's encoder race (§4.4, §6.3)
      await sleep(300 + Math.random() * 40);
      const before = new Set(rx.keyframes.keys());
      const sentAt = performance.now();
      assert.equal(session.requestKeyframe(), true);
      const deadline = sentAt + 500;
      while (performance.now() < deadline && !got) {
        for (const [ts, k] of rx.keyframes) {
          if (!before.has(ts) && k.spsAt >= sentAt) {
            got = { latencyMs: k.spsAt - sentAt, sentAt, attempt, ts };
          }
        }
        await sleep(5);
      }
      if (!got) t.diagnostic(`attempt ${attempt}: no IDR within 500 ms (baresip loses some requests, §6.2)`);
    }
    assert.ok(got, 'baresip sent no IDR after 3 keyframe requests');
    await sleep(150); // let the paced IDR (~40 ms, §4.5) finish before looking at it
    const kf = rx.keyframes.get(got.ts)!;
    assert.ok(kf.sps && kf.idr, 'SPS (NAL 7) and IDR (NAL 5) at the new timestamp');
    t.diagnostic(
      `keyframe: attempt ${got.attempt}, first packet (SPS) after ${got.latencyMs.toFixed(1)} ms, ` +
        `complete after ${kf.completeAt ? (kf.completeAt - got.sentAt).toFixed(1) : '?'} ms, PPS ${kf.pps}, ` +
        `requests sent ${session.counters.keyframeRequests}`,
    );
    assert.equal(inactive, false);
    assert.equal(session.counters.dropped.source + session.counters.dropped.payloadType + session.counters.dropped.malformed, 0);

    // ---- DTMF (RFC 4733) towards baresip ----
    // baresip -v logs each received telephone event: "received event: '1' (end=0)", then end=1.
    // Its audio jitter buffer (jitter_buffer_delay 5-10) releases a packet only when a later one
    // arrives, and we send no audio, so the last key's end packets stay inside it: only the keys
    // before the last can be seen to end.
    assert.equal(answer.audio.telephoneEventPt, 101);
    await session.sendDtmf('1#5', { durationMs: 160 });
    const heard = (key: string, end: boolean): boolean => baresipLog.join('').includes(`received event: '${key}' (end=${end ? 1 : 0})`);
    await waitFor(() => heard('1', true) && heard('#', true) && heard('5', false), "baresip to log DTMF '1', '#', '5'", 3000);
    t.diagnostic(`DTMF: baresip received '1', '#' (start and end) and '5' (start) as telephone-event/${String(answer.audio.telephoneEventClockRate)} PT ${answer.audio.telephoneEventPt}`);

    // ---- BYE ----
    const bye = await uac.bye();
    assert.equal(bye.status, 200);
    t.diagnostic(`BYE: ${bye.status}; counters ${JSON.stringify(session.counters)}`);
  } catch (err) {
    process.stderr.write(`baresip log (tail):\n${baresipLog.join('').slice(-4000)}\n`);
    throw err;
  } finally {
    await session?.close();
    uac?.close();
    if (baresip) await stopProcess(baresip);
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------

/** Counts RTP per kind and finds keyframes: SPS (7), PPS (8) and an IDR (5) at one RTP timestamp. */
class MediaProbe {
  readonly count: Record<MediaKind, number> = { audio: 0, video: 0 };
  readonly pts: Record<MediaKind, Set<number>> = { audio: new Set(), video: new Set() };
  readonly ssrc: Partial<Record<MediaKind, number>> = {};
  readonly keyframes = new Map<number, { sps: boolean; pps: boolean; idr: boolean; spsAt: number; completeAt?: number }>();

  pushRtp(kind: MediaKind, packet: Buffer): void {
    this.count[kind]++;
    this.pts[kind].add(rtpPayloadType(packet));
    this.ssrc[kind] = rtpSsrc(packet);
    if (kind !== 'video') return;
    const off = rtpPayloadOffset(packet);
    const end = rtpPayloadEnd(packet);
    if (off < 0 || off >= end) return;
    const ts = rtpTimestamp(packet);
    let nal = packet[off]! & 0x1f;
    if (nal === 28 && off + 1 < end) nal = packet[off + 1]! & 0x1f; // FU-A: the fragmented NAL's type
    let k = this.keyframes.get(ts);
    if (nal === 7 && !k) {
      k = { sps: true, pps: false, idr: false, spsAt: performance.now() };
      this.keyframes.set(ts, k);
    }
    if (!k) return;
    if (nal === 8) k.pps = true;
    if (nal === 5) k.idr = true;
    if (k.idr && (packet[1]! & 0x80) !== 0) k.completeAt ??= performance.now();
  }
}

interface SipResponse {
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: string;
}

/** Just enough SIP over UDP to call baresip directly: INVITE with retransmits, ACK, BYE. */
class MiniUac {
  readonly #sock: dgram.Socket;
  readonly #target: number;
  readonly #callId = `${randomBytes(8).toString('hex')}@127.0.0.1`;
  readonly #fromTag = randomBytes(4).toString('hex');
  #toTag = '';
  #remoteTarget = '';
  #cseq = 1;
  readonly #waiters: Array<(r: SipResponse) => boolean> = [];

  private constructor(sock: dgram.Socket, target: number) {
    this.#sock = sock;
    this.#target = target;
    sock.on('message', (msg) => this.#onMessage(msg.toString('utf8')));
  }

  static async open(targetPort: number): Promise<MiniUac> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
    return new MiniUac(sock, targetPort);
  }

  get #local(): string {
    return `127.0.0.1:${this.#sock.address().port}`;
  }

  /** Sends the INVITE and resolves with the 2xx (after ACKing it); rejects on a final error. */
  async invite(sdp: string): Promise<SipResponse> {
    const branch = `z9hG4bK-${randomBytes(6).toString('hex')}`;
    const msg = this.#request('INVITE', `sip:bob@127.0.0.1:${this.#target}`, branch, 1, {
      'Content-Type': 'application/sdp',
      body: sdp,
    });
    const final = await this.#transact(msg, 'INVITE', (r) => r.status >= 200, 20_000);
    if (final.status >= 300) throw new Error(`INVITE failed: ${final.status} ${final.reason}`);
    this.#toTag = /;\s*tag=([^;\s>]+)/.exec(header(final, 'to') ?? '')?.[1] ?? '';
    this.#remoteTarget = /<([^>]+)>/.exec(header(final, 'contact') ?? '')?.[1] ?? `sip:bob@127.0.0.1:${this.#target}`;
    this.#ack();
    return final;
  }

  async bye(): Promise<SipResponse> {
    const cseq = ++this.#cseq;
    const msg = this.#request('BYE', this.#remoteTarget, `z9hG4bK-${randomBytes(6).toString('hex')}`, cseq, {});
    return this.#transact(msg, 'BYE', (r) => r.status >= 200, 8000);
  }

  close(): void {
    try {
      this.#sock.close();
    } catch {
      // already closed
    }
  }

  #ack(): void {
    // ACK for a 2xx is its own transaction with a new branch, sent to the Contact (RFC 3261 §13.2.2.4)
    this.#send(this.#request('ACK', this.#remoteTarget, `z9hG4bK-${randomBytes(6).toString('hex')}`, 1, {}));
  }

  #request(method: string, uri: string, branch: string, cseq: number, extra: { 'Content-Type'?: string; body?: string }): string {
    const body = extra.body ?? '';
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.#local};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:sipcast-test@127.0.0.1>;tag=${this.#fromTag}`,
      `To: <sip:bob@127.0.0.1:${this.#target}>${this.#toTag ? `;tag=${this.#toTag}` : ''}`,
      `Call-ID: ${this.#callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:sipcast-test@${this.#local}>`,
      'User-Agent: sipcast-sipmedia-test',
      ...(extra['Content-Type'] ? [`Content-Type: ${extra['Content-Type']}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  }

  /** Sends with RFC 3261 timer-A style retransmits until a provisional or final response arrives. */
  #transact(msg: string, method: string, done: (r: SipResponse) => boolean, timeoutMs: number): Promise<SipResponse> {
    return new Promise((resolve, reject) => {
      let heard = false;
      let interval = 500;
      let timer: NodeJS.Timeout;
      const resend = (): void => {
        if (heard) return;
        this.#send(msg);
        timer = setTimeout(resend, interval);
        interval = Math.min(interval * 2, 4000);
      };
      const overall = setTimeout(() => {
        clearTimeout(timer);
        reject(new Error(`no final response to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push((r) => {
        if (!header(r, 'cseq')?.endsWith(method)) return false;
        heard = true;
        if (!done(r)) return false;
        clearTimeout(timer);
        clearTimeout(overall);
        resolve(r);
        return true;
      });
      resend();
    });
  }

  #onMessage(text: string): void {
    const [head = '', ...rest] = text.split('\r\n\r\n');
    const [start = '', ...lines] = head.split('\r\n');
    const headers = new Map<string, string>();
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers.set(COMPACT[l.slice(0, i).trim().toLowerCase()] ?? l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
    if (!m) {
      // a request from baresip (its BYE when it hangs up, an OPTIONS): answer 200 so it does not retransmit
      if (DEBUG) process.stderr.write(`[uac] request from baresip: ${start}\n`);
      const via = headers.get('via') ?? '';
      this.#send(
        [
          'SIP/2.0 200 OK',
          `Via: ${via}`,
          `From: ${headers.get('from') ?? ''}`,
          `To: ${headers.get('to') ?? ''}`,
          `Call-ID: ${headers.get('call-id') ?? ''}`,
          `CSeq: ${headers.get('cseq') ?? ''}`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      return;
    }
    const r: SipResponse = { status: Number(m[1]), reason: m[2] ?? '', headers, body: rest.join('\r\n\r\n') };
    if (DEBUG) process.stderr.write(`[uac] ${r.status} ${r.reason} (${header(r, 'cseq') ?? ''})\n`);
    // a retransmitted 2xx means our ACK was lost: ACK again
    if (r.status >= 200 && r.status < 300 && header(r, 'cseq')?.endsWith('INVITE') && this.#toTag) this.#ack();
    const i = this.#waiters.findIndex((w) => w(r));
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  #send(msg: string): void {
    this.#sock.send(msg, this.#target, '127.0.0.1');
  }
}

const COMPACT: Record<string, string> = { i: 'call-id', m: 'contact', f: 'from', t: 'to', v: 'via', l: 'content-length', c: 'content-type' };
const header = (r: SipResponse, name: string): string | undefined => r.headers.get(name);

/** A port free for TCP (and UDP when `udp`) on 127.0.0.1, chosen by the OS. */
async function freePort(udp: boolean): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const srv = net.createServer();
    const port = await new Promise<number>((res, rej) => {
      srv.once('error', rej);
      srv.listen(0, '127.0.0.1', () => res((srv.address() as net.AddressInfo).port));
    });
    let ok = true;
    if (udp) {
      const s = dgram.createSocket('udp4');
      ok = await new Promise<boolean>((res) => {
        s.once('error', () => res(false));
        s.bind(port, '127.0.0.1', () => res(true));
      });
      s.close();
    }
    await new Promise((r) => srv.close(r));
    if (ok) return port;
  }
  throw new Error('no free port');
}

async function makeMedia(dir: string): Promise<void> {
  const media = join(dir, 'media');
  await execFileP('mkdir', ['-p', media]);
  // The WAV must outlast the call: at its end baresip hangs up (keyframe-on-demand.md gotcha 10).
  const wav = execFileP('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '180', '-ac', '1', '-c:a', 'pcm_s16le', join(media, 'tone.wav')], { timeout: 60_000 });
  // Video-only: an mp4 with an audio track makes baresip 1.0.0 abort (peers README gotcha 1).
  const mp4 = execFileP(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '60', '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '50', '-bf', '0', join(media, 'video.mp4')],
    { timeout: 60_000 },
  );
  await Promise.all([wav, mp4]);
}

/** The peers README §3 bob config, with its own ports, paths and no registrar. */
async function writeBaresipConfig(dir: string, sipPort: number, ctrlPort: number): Promise<void> {
  const modules = dirname(await findModule('aufile.so'));
  await symlink(modules, join(dir, 'modules'));
  const template = existsSync('/work/shared/peers/baresip/bob/config')
    ? await readFile('/work/shared/peers/baresip/bob/config', 'utf8')
    : FALLBACK_CONFIG;
  const set = (text: string, key: string, value: string): string => {
    const re = new RegExp(`^${key}\\s.*$`, 'm');
    return re.test(text) ? text.replace(re, `${key}\t\t${value}`) : `${text}\n${key}\t\t${value}\n`;
  };
  let cfg = template;
  cfg = set(cfg, 'sip_listen', `127.0.0.1:${sipPort}`);
  cfg = set(cfg, 'rtp_ports', BARESIP_RTP_PORTS);
  cfg = set(cfg, 'ctrl_tcp_listen', `127.0.0.1:${ctrlPort}`);
  cfg = set(cfg, 'module_path', join(dir, 'modules'));
  cfg = set(cfg, 'audio_source', `aufile,${join(dir, 'media', 'tone.wav')}`);
  cfg = set(cfg, 'video_source', `avformat,${join(dir, 'media', 'video.mp4')}`);
  cfg = set(cfg, 'rtcp_mux', 'no');
  await writeFile(join(dir, 'config'), cfg);
  await writeFile(
    join(dir, 'accounts'),
    `<sip:bob@127.0.0.1:${sipPort}>;answermode=auto;regint=0;audio_codecs=opus/48000/2,PCMU/8000,PCMA/8000\n`,
  );
}

async function findModule(name: string): Promise<string> {
  for (const d of ['/usr/lib/baresip/modules', '/usr/lib/x86_64-linux-gnu/baresip/modules', '/usr/local/lib/baresip/modules']) {
    if (existsSync(join(d, name))) return join(d, name);
  }
  const { stdout } = await execFileP('dpkg', ['-L', 'baresip-core']);
  const hit = stdout.split('\n').find((l) => l.endsWith(`/${name}`));
  if (!hit) throw new Error(`baresip module ${name} not found`);
  return hit;
}

const FALLBACK_CONFIG = `poll_method\t\tepoll
net_interface\t\t127.0.0.1
call_local_timeout\t120
audio_buffer\t\t20-160
ausrc_srate\t\t48000
ausrc_channels\t\t1
audio_level\t\tno
video_display\t\tfakevideo,nil
video_size\t\t640x360
video_bitrate\t\t800000
video_fps\t\t25.00
videnc_format\t\tyuv420p
jitter_buffer_delay\t5-10
module\t\t\tg711.so
module\t\t\topus.so
module\t\t\taufile.so
module\t\t\tavcodec.so
module\t\t\tavformat.so
module\t\t\tfakevideo.so
module_tmp\t\tuuid.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
module_app\t\tctrl_tcp.so
opus_bitrate\t\t32000
avcodec_h264enc\t\tlibx264
avcodec_h264dec\t\th264
`;

async function waitFor(cond: () => boolean, what: string, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (proc && proc.exitCode !== null) throw new Error(`baresip exited (${proc.exitCode}) while waiting for ${what}`);
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** SIGTERM, then SIGKILL after 3 s; only this PID. */
async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
