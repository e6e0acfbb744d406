/**
 * Page helpers that observe what a viewer actually gets: the `<video>` element's size and the
 * RTCPeerConnection's inbound-rtp statistics.
 *
 * `instrumentPage(pageOrContext)` must run before navigation. It injects an init script that
 *  - wraps `RTCPeerConnection` so every instance the page creates (by our SDK or by the original
 *    Flashphoner SDK) is kept in `window.__e2ePcs`;
 *  - records every change of the text of `#status` and `#info` in `window.__e2eStatusLog`, so a test can
 *    check the order of statuses the user saw (e.g. PENDING before PLAYING) without hooking the page's code.
 */
import type { BrowserContext, Page } from '@playwright/test';

export interface VideoInbound {
  framesDecoded: number;
  framesReceived: number;
  framesDropped: number;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  nackCount: number;
  pliCount: number;
  firCount: number;
  freezeCount: number;
  totalFreezesDuration: number;
  frameWidth: number;
  frameHeight: number;
  framesPerSecond: number;
  retransmittedPacketsReceived: number;
  codec: string;
}

export interface AudioInbound {
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  totalSamplesReceived: number;
  codec: string;
}

export interface PcSnapshot {
  /** Index in creation order among the page's peer connections. */
  index: number;
  count: number;
  connectionState: string;
  iceConnectionState: string;
  video: VideoInbound | null;
  audio: AudioInbound | null;
  /** Remote side of the selected candidate pair. */
  selectedRemote: { address: string; port: number; candidateType: string } | null;
  /** The SRTP profile and the browser's DTLS role of the transport in use. */
  srtpCipher: string;
  dtlsRole: string;
}

export interface VideoSize {
  found: boolean;
  videoWidth: number;
  videoHeight: number;
  currentTime: number;
  paused: boolean;
  muted: boolean;
}

export interface StatusLogEntry {
  t: number;
  status: string;
  info: string;
}

/* The init script runs in the page; it must be self-contained. */
function pageInstrumentation(): void {
  const w = window as unknown as Record<string, unknown>;
  if (w.__e2ePcs) return;
  const pcs: RTCPeerConnection[] = [];
  Object.defineProperty(window, '__e2ePcs', { value: pcs });
  const Orig = window.RTCPeerConnection;
  if (typeof Orig === 'function') {
    class InstrumentedPeerConnection extends Orig {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args);
        pcs.push(this);
      }
    }
    Object.defineProperty(InstrumentedPeerConnection, 'name', { value: 'RTCPeerConnection' });
    w.RTCPeerConnection = InstrumentedPeerConnection;
    w.webkitRTCPeerConnection = InstrumentedPeerConnection;
  }

  const log: { t: number; status: string; info: string }[] = [];
  Object.defineProperty(window, '__e2eStatusLog', { value: log });
  let last = '\u0000';
  const sample = () => {
    const status = document.getElementById('status');
    if (!status) return;
    const info = document.getElementById('info');
    const entry = { t: Date.now(), status: (status.textContent ?? '').trim(), info: (info?.textContent ?? '').trim() };
    const key = `${entry.status}\u0001${entry.info}`;
    if (key === last) return;
    last = key;
    log.push(entry);
  };
  const start = () => {
    sample();
    new MutationObserver(sample).observe(document.documentElement, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  };
  if (document.documentElement) start();
  else document.addEventListener('readystatechange', start, { once: true });
}

export async function instrumentPage(target: Page | BrowserContext): Promise<void> {
  await target.addInitScript(pageInstrumentation);
}

/** Statuses shown in `#status`, in order, with consecutive duplicates and empty texts removed. */
export async function statusHistory(page: Page): Promise<string[]> {
  const log = await page.evaluate(
    () => ((window as unknown as { __e2eStatusLog?: StatusLogEntry[] }).__e2eStatusLog ?? []).slice(),
  );
  const out: string[] = [];
  for (const e of log) if (e.status && out[out.length - 1] !== e.status) out.push(e.status);
  return out;
}

export async function statusLog(page: Page): Promise<StatusLogEntry[]> {
  return page.evaluate(() => ((window as unknown as { __e2eStatusLog?: StatusLogEntry[] }).__e2eStatusLog ?? []).slice());
}

export async function videoSize(page: Page, selector = '#remoteVideo video'): Promise<VideoSize> {
  return page.evaluate((sel) => {
    const v = document.querySelector(sel) as HTMLVideoElement | null;
    if (!v) return { found: false, videoWidth: 0, videoHeight: 0, currentTime: 0, paused: true, muted: false };
    return {
      found: true,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      currentTime: v.currentTime,
      paused: v.paused,
      muted: v.muted,
    };
  }, selector);
}

/** Number of peer connections the page has created so far. */
export async function peerConnectionCount(page: Page): Promise<number> {
  return page.evaluate(() => ((window as unknown as { __e2ePcs?: RTCPeerConnection[] }).__e2ePcs ?? []).length);
}

/**
 * Inbound statistics of one of the page's peer connections: by default the newest one that is not closed
 * (or the newest one if all are closed). Returns null if the page has created none.
 */
export async function pcStats(page: Page, which: number | 'latest' = 'latest'): Promise<PcSnapshot | null> {
  return page.evaluate(async (whichPc) => {
    const pcs = (window as unknown as { __e2ePcs?: RTCPeerConnection[] }).__e2ePcs ?? [];
    if (pcs.length === 0) return null;
    let index: number;
    if (whichPc === 'latest') {
      index = pcs.length - 1;
      for (let i = pcs.length - 1; i >= 0; i--) {
        if (pcs[i]!.connectionState !== 'closed') {
          index = i;
          break;
        }
      }
    } else {
      index = whichPc < 0 ? pcs.length + whichPc : whichPc;
    }
    const pc = pcs[index];
    if (!pc) return null;
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    const snap: PcSnapshot = {
      index,
      count: pcs.length,
      connectionState: pc.connectionState,
      iceConnectionState: pc.iceConnectionState,
      video: null,
      audio: null,
      selectedRemote: null,
      srtpCipher: '',
      dtlsRole: '',
    };
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return snap;
    }
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
    const codecOf = (s: Record<string, unknown>): string => {
      const c = byId.get(s.codecId as string);
      return c ? `${String(c.mimeType)}${c.sdpFmtpLine ? ` ${String(c.sdpFmtpLine)}` : ''}` : '';
    };
    for (const s of byId.values()) {
      if (s.type !== 'inbound-rtp') continue;
      if (s.kind === 'video') {
        // With several video receivers, keep the one that carries the most data.
        if (snap.video && snap.video.bytesReceived >= num(s.bytesReceived)) continue;
        snap.video = {
          framesDecoded: num(s.framesDecoded),
          framesReceived: num(s.framesReceived),
          framesDropped: num(s.framesDropped),
          bytesReceived: num(s.bytesReceived),
          packetsReceived: num(s.packetsReceived),
          packetsLost: num(s.packetsLost),
          nackCount: num(s.nackCount),
          pliCount: num(s.pliCount),
          firCount: num(s.firCount),
          freezeCount: num(s.freezeCount),
          totalFreezesDuration: num(s.totalFreezesDuration),
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          framesPerSecond: num(s.framesPerSecond),
          retransmittedPacketsReceived: num(s.retransmittedPacketsReceived),
          codec: codecOf(s),
        };
      } else if (s.kind === 'audio') {
        if (snap.audio && snap.audio.bytesReceived >= num(s.bytesReceived)) continue;
        snap.audio = {
          bytesReceived: num(s.bytesReceived),
          packetsReceived: num(s.packetsReceived),
          packetsLost: num(s.packetsLost),
          totalSamplesReceived: num(s.totalSamplesReceived),
          codec: codecOf(s),
        };
      }
    }
    for (const s of byId.values()) {
      if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
      snap.srtpCipher = String(s.srtpCipher ?? '');
      snap.dtlsRole = String(s.dtlsRole ?? '');
      const pair = byId.get(s.selectedCandidatePairId as string);
      const remote = pair ? byId.get(pair.remoteCandidateId as string) : undefined;
      if (remote) {
        snap.selectedRemote = {
          address: String(remote.address ?? remote.ip ?? ''),
          port: num(remote.port),
          candidateType: String(remote.candidateType ?? ''),
        };
      }
    }
    return snap;
  }, which);
}

/** A one-line summary for logs and assertion messages. */
export function describeStats(s: PcSnapshot | null): string {
  if (!s) return 'no RTCPeerConnection';
  const v = s.video;
  const a = s.audio;
  return [
    `pc#${s.index}/${s.count} ${s.connectionState}/${s.iceConnectionState}`,
    v
      ? `video ${v.codec} ${v.frameWidth}x${v.frameHeight} decoded=${v.framesDecoded} pkts=${v.packetsReceived} ` +
        `lost=${v.packetsLost} nack=${v.nackCount} pli=${v.pliCount} rtx=${v.retransmittedPacketsReceived} ` +
        `freezes=${v.freezeCount}/${v.totalFreezesDuration.toFixed(3)}s bytes=${v.bytesReceived}`
      : 'no video inbound-rtp',
    a ? `audio ${a.codec} bytes=${a.bytesReceived} pkts=${a.packetsReceived} lost=${a.packetsLost}` : 'no audio inbound-rtp',
    s.selectedRemote ? `remote ${s.selectedRemote.candidateType} ${s.selectedRemote.address}:${s.selectedRemote.port}` : '',
  ].join(' | ');
}

/**
 * Polls `read` until `ok` holds; on timeout throws with a description of the last value, so a failure says
 * what the page actually had (e.g. the last inbound-rtp figures) rather than just "timed out".
 */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: (value: T) => string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) {
      const desc = opts.describe ? opts.describe(value) : JSON.stringify(value);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${desc}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
    value = await read();
  }
  return value;
}

/** Waits until the page's newest peer connection has decoded at least `minFrames` video frames. */
export async function waitForDecodedFrames(page: Page, minFrames = 1, timeoutMs = 20_000): Promise<PcSnapshot> {
  const snap = await waitFor(
    `${minFrames} decoded video frame(s)`,
    () => pcStats(page),
    (s) => (s?.video?.framesDecoded ?? 0) >= minFrames,
    { timeoutMs, describe: describeStats },
  );
  return snap!;
}
