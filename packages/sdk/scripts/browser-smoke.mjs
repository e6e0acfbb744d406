#!/usr/bin/env node
// Browser smoke test of the built UMD SDK in Debian Chromium (no sipcast server needed).
//
// The page replaces window.WebSocket with an in-page "server" that speaks the WCS protocol and answers
// the SDK's offer with a second RTCPeerConnection sending a canvas video and an oscillator. Checks the
// whole playback path in a real browser: handshake, offer (stripCodecs, stereo), answer, one MediaStream
// on the <video>, decoding, getStats, stop/STOPPED release, disconnect.
//
//   npm run build:sdk && node packages/sdk/scripts/browser-smoke.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';

const UMD = fileURLToPath(new URL('../dist/flashphoner.umd.min.js', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const PAGE = `<!doctype html><html><body><div id="display"></div><script>
window.sent = [];
window.WebSocket = class PageServer {
  constructor(url) { this.url = url; this.readyState = 0; setTimeout(() => { this.readyState = 1; this.onopen && this.onopen({}); }, 5); }
  reply(message, ...data) { setTimeout(() => this.onmessage && this.onmessage({ data: JSON.stringify({ message, data }) }), 0); }
  close() { this.readyState = 3; setTimeout(() => this.onclose && this.onclose({ code: 1005 }), 0); }
  send(text) {
    const f = JSON.parse(text); const d = f.data[0]; window.sent.push(f);
    if (f.message === 'connection') this.reply('getUserData', { sessionId: 's1', authToken: 't1' });
    if (f.message === 'playStream') this.answer(d);
    if (f.message === 'stopStream') this.reply('notifyStreamStatusEvent', { mediaSessionId: d.mediaSessionId, status: 'STOPPED', info: 'Stopped by user' });
  }
  async answer(d) {
    const pc = new RTCPeerConnection(); window.serverPc = pc;
    const canvas = document.createElement('canvas'); canvas.width = 320; canvas.height = 240;
    const g = canvas.getContext('2d'); let n = 0;
    setInterval(() => { g.fillStyle = 'hsl(' + (n++ % 360) + ',80%,50%)'; g.fillRect(0, 0, 320, 240); }, 33);
    const ac = new AudioContext(); const osc = ac.createOscillator(); const dst = ac.createMediaStreamDestination();
    osc.connect(dst); osc.start();
    const ms = new MediaStream([canvas.captureStream(30).getVideoTracks()[0], dst.stream.getAudioTracks()[0]]);
    ms.getTracks().forEach((t) => pc.addTrack(t, ms));
    await pc.setRemoteDescription({ type: 'offer', sdp: d.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
    this.reply('setRemoteSDP', d.mediaSessionId, pc.localDescription.sdp);
    this.reply('notifyStreamStatusEvent', { mediaSessionId: d.mediaSessionId, status: 'PLAYING' });
  }
};
</script></body></html>`;

const server = http
  .createServer((req, res) => {
    if (req.url === '/') res.end(PAGE);
    else if (req.url === '/sdk.js') res.end(readFileSync(UMD));
    else {
      res.statusCode = 404;
      res.end();
    }
  })
  .listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.addScriptTag({ url: '/sdk.js' });
  const r = await page.evaluate(async () => {
    const F = window.Flashphoner;
    const { SESSION_STATUS, STREAM_STATUS } = F.constants;
    F.init({ logger: { severity: 'WARN' } });
    const session = await new Promise((resolve, reject) =>
      F.createSession({ urlServer: 'ws://page' }).on(SESSION_STATUS.ESTABLISHED, resolve).on(SESSION_STATUS.FAILED, reject),
    );
    const display = document.getElementById('display');
    const stream = session.createStream({
      name: 'demo',
      display,
      stripCodecs: 'VP8,VP9,AV1',
      constraints: { audio: { stereo: true }, video: true },
      playoutDelay: 0.1,
    });
    await new Promise((resolve, reject) => {
      stream.on(STREAM_STATUS.PLAYING, resolve).on(STREAM_STATUS.FAILED, () => reject(new Error(String(stream.getErrorInfo()))));
      stream.play();
    });
    const video = document.getElementById(stream.id());
    await new Promise((r) => setTimeout(r, 2000));
    const stats = await stream.getStats();
    const offer = window.sent.find((f) => f.message === 'playStream').data[0].sdp;
    const out = {
      providers: F.getMediaProviders(),
      inDisplay: video && video.parentNode === display,
      size: [video.videoWidth, video.videoHeight],
      paused: video.paused,
      kinds: video.srcObject.getTracks().map((t) => t.kind).sort(),
      offerHasVP8: /VP8/.test(offer),
      offerHasH264: /H264/.test(offer),
      offerStereo: /stereo=1/.test(offer),
      framesDecoded: stats.inboundStream.video && stats.inboundStream.video.framesDecoded,
      videoCodec: stats.inboundStream.video && stats.inboundStream.video.codec,
      audioBytes: stats.inboundStream.audio && stats.inboundStream.audio.bytesReceived,
    };
    stream.stop();
    await new Promise((r) => setTimeout(r, 200));
    out.afterStop = [stream.status(), stream.getInfo(), session.getStreams().length, video.srcObject === null];
    session.disconnect();
    await new Promise((r) => setTimeout(r, 50));
    out.session = session.status();
    return out;
  });
  console.log(JSON.stringify(r));
  assert.deepEqual(r.providers, ['WebRTC']);
  assert.equal(r.inDisplay, true);
  assert.deepEqual(r.size, [320, 240]);
  assert.equal(r.paused, false);
  assert.deepEqual(r.kinds, ['audio', 'video']);
  assert.equal(r.offerHasVP8, false);
  assert.equal(r.offerHasH264, true);
  assert.equal(r.offerStereo, true);
  assert.ok(r.framesDecoded > 10, `framesDecoded ${r.framesDecoded}`);
  assert.equal(r.videoCodec, 'H264');
  assert.ok(r.audioBytes > 0);
  assert.deepEqual(r.afterStop, ['STOPPED', 'Stopped by user', 0, true]);
  assert.equal(r.session, 'DISCONNECTED');
  console.log('browser smoke: OK');
} finally {
  await browser.close();
  server.close();
}
