import { randomUUID } from 'node:crypto';
import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import { WebSocket } from 'ws';

type Frame = { message: string; data: unknown[] };

/**
 * A WCS-protocol client for integration tests: a WebSocket plus node-datachannel receivers
 * that offer recvonly like a browser and count the RTP they get.
 */
export class WcsTestClient {
  readonly frames: Frame[] = [];
  readonly #ws: WebSocket;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as Frame;
      if (f.message === 'ping') this.send('pong', null);
      this.frames.push(f);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
  }

  static connect(url: string): Promise<WcsTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new WcsTestClient(ws)));
      ws.once('error', reject);
    });
  }

  send(message: string, data: unknown): void {
    this.#ws.send(JSON.stringify({ message, data: [data] }));
  }

  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  /** Resolves with the first frame (already received or future) matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting for a frame; got ${this.frames.map((f) => f.message).join(',')}`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  status(mediaSessionId: string, status: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.waitFor(
      (f) => f.message === 'notifyStreamStatusEvent' && (f.data[0] as Record<string, unknown>)['mediaSessionId'] === mediaSessionId && (f.data[0] as Record<string, unknown>)['status'] === status,
      timeoutMs,
    ).then((f) => f.data[0] as Record<string, unknown>);
  }

  async establish(): Promise<Record<string, unknown>> {
    this.send('connection', { appKey: 'defaultApp', mediaProviders: ['WebRTC'], clientVersion: 'test' });
    const f = await this.waitFor((x) => x.message === 'getUserData');
    return f.data[0] as Record<string, unknown>;
  }

  /**
   * Plays `name` with a fresh TestReceiver and applies the answer. libdatachannel as the
   * offering side sometimes refuses a correct answer under CPU contention ("Got a remote
   * candidate without ICE transport", a known library race; browsers are the offerers in
   * production), so that one error is retried with a new receiver.
   */
  async play(name: string, tries = 3): Promise<{ rx: TestReceiver; answerSdp: string }> {
    for (let attempt = 1; ; attempt++) {
      const rx = new TestReceiver();
      this.send('playStream', { mediaSessionId: rx.mediaSessionId, name, published: false, hasVideo: true, hasAudio: true, status: 'PENDING', sdp: await rx.offer() });
      const f = await this.waitFor((x) => x.message === 'setRemoteSDP' && x.data[0] === rx.mediaSessionId);
      const answerSdp = String(f.data[1]);
      try {
        rx.answer(answerSdp);
        return { rx, answerSdp };
      } catch (err) {
        rx.close();
        this.send('stopStream', { mediaSessionId: rx.mediaSessionId, name });
        if (attempt >= tries || !/without ICE transport/.test((err as Error).message)) throw err;
      }
    }
  }

  close(): void {
    this.#ws.close();
  }
}

/** A recvonly node-datachannel peer that counts RTP per kind. */
export class TestReceiver {
  readonly mediaSessionId = randomUUID();
  readonly received = { audio: 0, video: 0 };
  readonly #pc: PeerConnection;
  /** Held so that the tracks (and their onMessage callbacks) are not garbage-collected. */
  readonly #tracks: Track[];

  constructor() {
    this.#pc = new PeerConnection(this.mediaSessionId, { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
    const audio = new Audio('0', 'RecvOnly');
    audio.addOpusCodec(111);
    const video = new Video('1', 'RecvOnly');
    video.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
    const at = this.#pc.addTrack(audio);
    const vt = this.#pc.addTrack(video);
    at.onMessage((m) => this.#count('audio', m));
    vt.onMessage((m) => this.#count('video', m));
    this.#tracks = [at, vt];
  }

  async offer(): Promise<string> {
    const gathered = new Promise<void>((resolve) => this.#pc.onGatheringStateChange((s) => s === 'complete' && resolve()));
    this.#pc.setLocalDescription('offer');
    if (this.#pc.gatheringState() !== 'complete') await gathered;
    return this.#pc.localDescription()!.sdp;
  }

  answer(sdp: string): void {
    this.#pc.setRemoteDescription(sdp, 'answer');
  }

  close(): void {
    this.#tracks.length = 0;
    this.#pc.close();
  }

  #count(kind: 'audio' | 'video', m: Buffer): void {
    const pt = m[1]!;
    if (pt >= 192 && pt <= 223) return;
    this.received[kind]++;
  }
}
