/**
 * SIP calls become streams, end to end with real peers and real Chromium (issue 3, "Tests"):
 * REST `/rest-api/call/*` and the sip-as-rtmp page -> sipcast's SIP UA -> Kamailio (digest auth) -> baresip /
 * SIPp callees -> RTP -> the stream `toStream` -> the Player page over WebRTC.
 *
 * Observation points:
 *  - the SIP wire: dumpcap on the server's SIP port and Kamailio's (support/sip/sipCapture.ts; root) - what our
 *    UA really sent and received;
 *  - Kamailio's log (`AUTH challenge/ok`, `REQ CANCEL`), SIPp message traces, baresip ctrl_tcp events;
 *  - the server log: `call <callId>: <STATUS>` lines. An ended call leaves `/call/find` in the same tick as it
 *    reaches BUSY / FAILED / FINISH, so those final statuses (and their sipStatus) can never be seen over REST;
 *    the tests read them from the log and the SIP codes from the wire, and then check the 404 over REST.
 *  - Chromium: inbound-rtp stats, <video> size, requestVideoFrameCallback.
 *
 * Ports of this file (first free from): sipcast ws/http 18280/18281 (+ 18290/18291 for the RTP-inactivity
 * server), sipcast SIP 25100 (25110), demo callee 25190, sipcast RTP 32000-32199 (32200-32299), Kamailio 25060,
 * baresip SIP 25070 / ctrl 25150 / RTP 25200-25239, SIPp callee 25090 / media 26100.
 *
 * Custom SIPp callees (support/sip/*.xml): uas_split_pcmu_info (uas_split_pcmu that answers our keyframe-request
 * INFO instead of aborting the call) and uas_pcmu_rtp_stops (media for -d ms, then none while the call stays up).
 */
import path from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import {
  describeStats,
  instrumentPage,
  pcStats,
  statusHistory,
  videoSize,
  waitFor,
  waitForDecodedFrames,
  type PcSnapshot,
} from './support/media';
import {
  ensurePeerMedia,
  pickPort,
  requirePeers,
  startBaresip,
  startKamailio,
  startSippUas,
  type Baresip,
  type BaresipAudioCodec,
  type Kamailio,
  type SippUas,
} from './support/peers';
import { attachServerLogs, startServer, type SipcastServer } from './support/server';
import {
  SIP_SUPPORT_DIR,
  callIds,
  callLog,
  findCall,
  findStream,
  loggedStatuses,
  openPlayer,
  playerState,
  rest,
  startCall,
  waitCallGone,
  waitCallStatus,
  waitLoggedEnd,
  type CallStartup,
} from './support/sip/calls';
import { describeWire, header, startSipCapture, type SipCapture, type SipWireMessage } from './support/sip/sipCapture';

/** The first decoded frame may need a keyframe from the callee; baresip's own GOP is ~10 s. */
const FIRST_FRAME_MS = 15_000;
/** The sip-as-rtmp page polls /call/find 1 s after the startup, then every 5 s. */
const PAGE_STATUS_MS = 20_000;

let kam: Kamailio;
let server: SipcastServer;
let serverSipPort: number;
let demoPort: number;

/** Everything a test started: stopped in reverse order (and its logs attached on failure) by afterEach. */
let started: { name: string; logs(): string; stop(): Promise<unknown> }[] = [];
let extraServers: SipcastServer[] = [];
let wire: SipWireMessage[] | null = null;

function track<T extends { logs(): string; stop(): Promise<unknown> }>(name: string, h: T): T {
  started.push({ name, logs: () => h.logs(), stop: () => h.stop() });
  return h;
}

/**
 * Captures the SIP traffic of a sipcast server: its SIP port and Kamailio's port (over TCP our UA connects
 * to Kamailio from an ephemeral port). `ours()` picks our messages out of it.
 */
async function capture(port = serverSipPort): Promise<SipCapture> {
  const cap = await startSipCapture([port, kam.port]);
  track('sip-capture', { logs: () => cap.logs(), stop: () => cap.stop() });
  return cap;
}

test.beforeAll(async () => {
  requirePeers(['kamailio', 'baresip', 'sipp', 'sippPcapPlay', 'ffmpeg']);
  test.setTimeout(120_000); // a cold media cache takes ~10-20 s to generate
  await ensurePeerMedia();
  kam = await startKamailio({ port: 25060 });
  serverSipPort = await pickPort(25100, 'udp+tcp');
  demoPort = await pickPort(25190, 'udp+tcp');
  server = await startServer({
    name: 'sip-calls',
    wsPort: 18280,
    httpPort: 18281,
    requireSdk: true,
    env: {
      SIPCAST_SIP_PORT: String(serverSipPort),
      SIPCAST_RTP_PORT_MIN: '32000',
      SIPCAST_RTP_PORT_MAX: '32199',
      SIPCAST_DEMO_CALLEE: 'true',
      SIPCAST_DEMO_CALLEE_PORT: String(demoPort),
      SIPCAST_LOG_LEVEL: 'debug',
    },
  });
});

test.afterEach(async ({}, testInfo) => {
  const failed = testInfo.status !== testInfo.expectedStatus;
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
  if (failed) {
    for (const s of started) await testInfo.attach(`${s.name}.log`, { body: s.logs(), contentType: 'text/plain' });
    if (wire) await testInfo.attach('sip-wire.txt', { body: describeWire(wire), contentType: 'text/plain' });
    await testInfo.attach('kamailio.log', { body: kam.logs(), contentType: 'text/plain' });
  }
  await attachServerLogs(testInfo, server);
  for (const s of extraServers) {
    await attachServerLogs(testInfo, s);
    await s.stop();
  }
  started = [];
  extraServers = [];
  wire = null;
});

test.afterAll(async () => {
  await server?.stop();
  await kam?.stop();
});

// ---- helpers --------------------------------------------------------------------------------------

/** baresip callee registered at Kamailio. */
async function startBob(opts: { codecs?: BaresipAudioCodec[]; transport?: 'udp' | 'tcp'; name?: string } = {}): Promise<Baresip> {
  const name = opts.name ?? 'bob';
  const b = track(
    `baresip-${name}`,
    await startBaresip({
      name,
      registrar: { host: kam.host, port: kam.port, transport: opts.transport ?? 'udp' },
      audioCodecs: opts.codecs ?? ['opus', 'PCMU', 'PCMA'],
      sipPort: 25070,
      ctrlPort: 25150,
      rtpPorts: [25200, 25239],
    }),
  );
  await kam.waitForRegistration(name, 5_000);
  return b;
}

/** SIPp callee registered as carol at Kamailio (or, with direct, not registered). */
async function startCarol(scenario: string, opts: { direct?: boolean; holdMs?: number; timeoutSec?: number } = {}): Promise<SippUas> {
  const uas = track(
    `sipp-${path.basename(scenario, '.xml')}`,
    await startSippUas({
      scenario,
      port: 25090,
      mediaPort: 26100,
      ...(opts.holdMs !== undefined ? { holdMs: opts.holdMs } : {}),
      timeoutSec: opts.timeoutSec ?? 90,
      ...(opts.direct ? {} : { register: { registrar: kam, user: 'carol' } }),
    }),
  );
  if (!opts.direct) await kam.waitForRegistration('carol', 5_000);
  return uas;
}

/** A /call/startup body for alice calling `callee` through Kamailio (outbound proxy = Kamailio). */
function aliceCalls(label: string, callee: string, extra: Record<string, unknown> = {}): CallStartup {
  return {
    ...callIds(label),
    callee,
    sipLogin: 'alice',
    sipPassword: 'secret1',
    sipDomain: kam.hostport,
    sipOutboundProxy: kam.hostport,
    ...extra,
  };
}

function video(s: PcSnapshot | null) {
  if (!s?.video) throw new Error(`no video inbound-rtp: ${describeStats(s)}`);
  return s.video;
}

function audio(s: PcSnapshot | null) {
  if (!s?.audio) throw new Error(`no audio inbound-rtp: ${describeStats(s)}`);
  return s.audio;
}

/**
 * The Player page on `stream` reaches PLAYING and then really plays: with video, 640x360 frames keep being
 * decoded; audio bytes keep arriving. Returns the last stats.
 */
async function expectPlays(page: Page, opts: { video: boolean }): Promise<PcSnapshot> {
  await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  let first: PcSnapshot | null;
  if (opts.video) {
    first = await waitForDecodedFrames(page, 1, FIRST_FRAME_MS);
    await waitFor('<video> 640x360', () => videoSize(page), (v) => v.videoWidth === 640 && v.videoHeight === 360, {
      timeoutMs: 10_000,
      describe: (v) => JSON.stringify(v),
    });
  } else {
    first = await waitFor('audio bytes', () => pcStats(page), (s) => (s?.audio?.bytesReceived ?? 0) > 0, {
      timeoutMs: 15_000,
      describe: describeStats,
    });
  }
  await page.waitForTimeout(2_000);
  const later = await pcStats(page);
  const msg = describeStats(later);
  expect(audio(later).bytesReceived - audio(first).bytesReceived, `audio keeps flowing: ${msg}`).toBeGreaterThan(1_000);
  expect(audio(later).totalSamplesReceived - audio(first).totalSamplesReceived, `audio samples: ${msg}`).toBeGreaterThan(8_000);
  if (opts.video) {
    expect(video(later).frameWidth, msg).toBe(640);
    expect(video(later).frameHeight, msg).toBe(360);
    expect(video(later).framesDecoded - video(first).framesDecoded, `frames keep being decoded: ${msg}`).toBeGreaterThan(10);
  } else {
    expect(later?.video?.framesDecoded ?? 0, `audio-only stream decodes no video: ${msg}`).toBe(0);
    expect((await videoSize(page)).videoWidth, 'no picture in an audio-only stream').toBe(0);
  }
  return later!;
}

/** The viewer sees the end of the stream: `status` (STOPPED or FAILED) with `info`. */
async function expectViewerEnded(page: Page, statuses: string[], info: string, timeoutMs = 10_000): Promise<void> {
  const st = await waitFor(
    `viewer ${statuses.join('/')} "${info}"`,
    () => playerState(page),
    (s) => s.stream !== null && statuses.includes(s.stream),
    { timeoutMs, describe: (s) => JSON.stringify(s) },
  );
  expect(st.info, JSON.stringify(st)).toBe(info);
  await expect(page.locator('#status')).toHaveText(st.stream!);
  await expect(page.locator('#info')).toHaveText(info);
}

/**
 * Addresses of a sipcast server on the wire: 127.0.0.1:<SIP port>, plus the local ends of its TCP connections
 * (the sources of requests whose top Via names that port).
 */
function ourAddresses(msgs: readonly SipWireMessage[], port = serverSipPort): Set<string> {
  const set = new Set([`127.0.0.1:${port}`]);
  for (const m of msgs) {
    if (m.method && m.transport === 'tcp' && new RegExp(`^SIP/2\\.0/TCP 127\\.0\\.0\\.1:${port}\\b`).test(header(m, 'Via'))) set.add(m.src);
  }
  return set;
}

/** The messages our UA sent (`sent`) or received (`!sent`), and a predicate for "sent by us". */
function ours(msgs: readonly SipWireMessage[], port = serverSipPort): { all: SipWireMessage[]; sent: (m: SipWireMessage) => boolean } {
  const addrs = ourAddresses(msgs, port);
  return { all: msgs.filter((m) => addrs.has(m.src) || addrs.has(m.dst)), sent: (m) => addrs.has(m.src) };
}

// ---- 1. the sip-as-rtmp page via Kamailio to baresip ------------------------------------------------

test('sip-as-rtmp page: REGISTER 401 + INVITE 407 (qop=auth) via Kamailio to baresip bob; the Player decodes 640x360 + audio', async ({
  page,
  context,
}) => {
  test.setTimeout(90_000);
  const bob = await startBob();
  const cap = await capture();
  const n0 = {
    regChallenge: kam.count(/AUTH challenge for REGISTER from alice/),
    regOk: kam.count(/AUTH ok for REGISTER user alice/),
    invChallenge: kam.count(/AUTH challenge for INVITE from alice/),
    invOk: kam.count(/AUTH ok for INVITE user alice/),
  };

  await page.goto(`${server.httpUrl}/sip-as-rtmp/`, { waitUntil: 'domcontentloaded' });
  await page.fill('#sipLogin', 'alice');
  await page.fill('#sipAuthenticationName', '');
  await page.fill('#sipPassword', 'secret1');
  await page.fill('#sipDomain', kam.hostport);
  await page.fill('#sipOutboundProxy', kam.hostport);
  await page.fill('#sipPort', '');
  await page.selectOption('#sipTransport', 'UDP');
  await page.check('#sipRegisterRequired');
  await page.check('#hasAudio');
  await page.check('#hasVideo');
  await page.fill('#callee', 'bob');
  const toStream = await page.inputValue('#toStream');
  expect(toStream).toMatch(/^call-/);
  await page.click('#callBtn');
  await expect(page.locator('#callStatus')).toHaveText('ESTABLISHED', { timeout: PAGE_STATUS_MS });
  await expect(page.locator('#callBtn')).toHaveText('Hangup');
  const state = await page.evaluate(
    () => (window as unknown as { sipAsRtmp: { state(): { callId: string; status: string; streamName: string } } }).sipAsRtmp.state(),
  );
  expect(state).toMatchObject({ status: 'ESTABLISHED', streamName: toStream });
  await bob.waitForEvent('CALL_ESTABLISHED', 5_000);

  const call = (await findCall(server, state.callId)).call;
  expect(call, 'the call over REST').toMatchObject({ status: 'ESTABLISHED', sipStatus: 200, audioCodec: 'opus', videoCodec: 'H264', callee: 'bob' });
  expect(await findStream(server, toStream)).toMatchObject({ name: toStream, hasAudio: true, hasVideo: true });

  // the Watch link points at the Player on the call's stream
  await expect(page.locator('#watchLink')).toHaveAttribute('href', `/player/?streamName=${encodeURIComponent(toStream)}&autoplay`);
  const player = await context.newPage();
  await openPlayer(player, server, toStream);
  const stats = await expectPlays(player, { video: true });
  console.log(`[sip-as-rtmp -> baresip] ${describeStats(stats)}`);

  // Kamailio challenged and then accepted both the REGISTER and the INVITE of alice
  expect(kam.count(/AUTH challenge for REGISTER from alice/) - n0.regChallenge, 'REGISTER challenged (401)').toBeGreaterThanOrEqual(1);
  expect(kam.count(/AUTH ok for REGISTER user alice/) - n0.regOk, 'REGISTER authenticated').toBeGreaterThanOrEqual(1);
  expect(kam.count(/AUTH challenge for INVITE from alice/) - n0.invChallenge, 'INVITE challenged (407)').toBeGreaterThanOrEqual(1);
  expect(kam.count(/AUTH ok for INVITE user alice/) - n0.invOk, 'INVITE authenticated').toBeGreaterThanOrEqual(1);

  // hang up from the page: BYE, the page shows FINISHED, the viewer STOPPED
  await page.click('#callBtn');
  await expectViewerEnded(player, ['STOPPED'], 'Stopped by publisher stop');
  await expect(page.locator('#callStatus')).toHaveText('FINISHED', { timeout: PAGE_STATUS_MS });
  await waitCallGone(server, state.callId);
  await bob.waitForEvent('CALL_CLOSED', 5_000);

  // on the wire: REGISTER -> 401 (qop=auth) -> REGISTER with credentials -> 200, INVITE -> 407 -> INVITE -> 200
  wire = await cap.stop();
  const { all: w, sent } = ours(wire);
  const regs = w.filter((m) => sent(m) && m.method === 'REGISTER');
  const invites = w.filter((m) => sent(m) && m.method === 'INVITE');
  const trace = describeWire(wire);
  expect(regs.length, trace).toBeGreaterThanOrEqual(2);
  const r401 = w.find((m) => !sent(m) && m.status === 401 && /REGISTER/.test(m.cseq));
  expect(r401, trace).toBeDefined();
  expect(header(r401!, 'WWW-Authenticate'), trace).toMatch(/qop="?auth/);
  const authReg = regs.find((m) => header(m, 'Authorization'))!;
  expect(authReg, trace).toBeDefined();
  expect(header(authReg, 'Authorization')).toMatch(/qop="?auth"?/);
  expect(header(authReg, 'Authorization')).toMatch(/nc=0*1\b/);
  expect(header(authReg, 'Authorization')).toMatch(/cnonce="[^"]+"/);
  expect(header(authReg, 'Authorization')).toMatch(/realm="spike"/);
  expect(header(authReg, 'Authorization')).not.toContain('secret1');
  expect(w.some((m) => !sent(m) && m.status === 200 && /REGISTER/.test(m.cseq)), trace).toBe(true);
  // the REGISTER precedes the INVITE
  expect(w.indexOf(regs[0]!), trace).toBeLessThan(w.indexOf(invites[0]!));
  const p407 = w.find((m) => !sent(m) && m.status === 407 && /INVITE/.test(m.cseq));
  expect(p407, trace).toBeDefined();
  expect(header(p407!, 'Proxy-Authenticate'), trace).toMatch(/qop="?auth/);
  const authInv = invites.find((m) => header(m, 'Proxy-Authorization'));
  expect(authInv, trace).toBeDefined();
  expect(header(authInv!, 'Proxy-Authorization')).toMatch(/qop="?auth"?/);
  expect(header(authInv!, 'Proxy-Authorization')).toMatch(/cnonce="[^"]+"/);
  expect(w.some((m) => !sent(m) && m.status === 200 && /INVITE/.test(m.cseq)), trace).toBe(true);
  expect(w.some((m) => sent(m) && m.method === 'ACK'), trace).toBe(true);
  expect(w.some((m) => sent(m) && m.method === 'BYE'), trace).toBe(true);
  // unregistered when the call ended (Expires: 0 or ;expires=0)
  const unreg = regs.filter((m) => header(m, 'Expires') === '0' || /;\s*expires=0\b/i.test(header(m, 'Contact')));
  expect(unreg.length, `an unREGISTER after the call\n${trace}`).toBeGreaterThanOrEqual(1);
  // every INVITE went to the outbound proxy (Kamailio)
  for (const inv of invites) expect(inv.dst, trace).toBe(kam.hostport);
});

// ---- 2. variants by REST ----------------------------------------------------------------------------

interface Variant {
  name: string;
  codecs: BaresipAudioCodec[];
  transport: 'udp' | 'tcp';
  hasVideo: boolean;
  audioCodec: string;
}

const VARIANTS: Variant[] = [
  { name: 'PCMU', codecs: ['PCMU'], transport: 'udp', hasVideo: true, audioCodec: 'PCMU' },
  { name: 'PCMA', codecs: ['PCMA'], transport: 'udp', hasVideo: true, audioCodec: 'PCMA' },
  { name: 'audio only (hasVideo false)', codecs: ['opus', 'PCMU', 'PCMA'], transport: 'udp', hasVideo: false, audioCodec: 'opus' },
  { name: 'TCP signalling', codecs: ['opus', 'PCMU', 'PCMA'], transport: 'tcp', hasVideo: true, audioCodec: 'opus' },
];

for (const v of VARIANTS) {
  test(`REST call to baresip via Kamailio, ${v.name}: ESTABLISHED, the stream plays in Chromium, terminate -> BYE`, async ({ page }) => {
    test.setTimeout(60_000);
    const bob = await startBob({ codecs: v.codecs, transport: v.transport });
    const cap = await capture();
    const body = aliceCalls(`rest-${v.name.split(' ')[0]!.toLowerCase()}`, 'bob', {
      hasVideo: v.hasVideo,
      ...(v.transport === 'tcp' ? { sipTransport: 'TCP' } : {}),
    });
    await startCall(server, body);
    const call = await waitCallStatus(server, body.callId, 'ESTABLISHED', 15_000);
    expect(call).toMatchObject({ sipStatus: 200, audioCodec: v.audioCodec, videoCodec: v.hasVideo ? 'H264' : '', hasVideo: v.hasVideo, hasAudio: true });
    const stream = await findStream(server, body.toStream);
    expect(stream, 'the stream').toMatchObject({ hasAudio: true, hasVideo: v.hasVideo });

    await openPlayer(page, server, body.toStream);
    const stats = await expectPlays(page, { video: v.hasVideo });
    console.log(`[${v.name}] ${describeStats(stats)}`);

    expect((await rest(server, 'call/terminate', { callId: body.callId })).status).toBe(200);
    await expectViewerEnded(page, ['STOPPED'], 'Stopped by publisher stop');
    await waitCallGone(server, body.callId);
    await bob.waitForEvent('CALL_CLOSED', 5_000);
    expect(await waitLoggedEnd(server, body.callId)).toBe('FINISH');

    wire = await cap.stop();
    const { all: w, sent } = ours(wire);
    const trace = describeWire(wire);
    expect(w.length, trace).toBeGreaterThan(0);
    for (const m of w) expect(m.transport, `every SIP message over ${v.transport}\n${trace}`).toBe(v.transport);
    const invite = w.find((m) => sent(m) && m.method === 'INVITE')!;
    expect(invite, trace).toBeDefined();
    const offer = invite.text.split('\r\n\r\n')[1] ?? '';
    expect(offer, 'offer m-lines').toMatch(/^m=audio \d+ RTP\/AVP /m);
    if (v.hasVideo) expect(offer).toMatch(/^m=video \d+ RTP\/AVP 96/m);
    else expect(offer, 'hasVideo false: no video m-line').not.toMatch(/^m=video/m);
    if (v.transport === 'tcp') expect(header(invite, 'Via')).toMatch(/^SIP\/2\.0\/TCP /);
    expect(w.some((m) => sent(m) && m.method === 'BYE'), trace).toBe(true);
    expect(w.some((m) => !sent(m) && m.status === 200 && /BYE/.test(m.cseq)), trace).toBe(true);
  });
}

// ---- 3. SIPp callee with pcap RTP -------------------------------------------------------------------

test('SIPp callee carol (via Kamailio) sends PCMU by rtp_stream + H.264 from a pcap: Chromium decodes 640x360', async ({ page }) => {
  test.setTimeout(60_000);
  // uas_split_pcmu + 200 to in-dialog INFO: the generated scenario aborts on our keyframe-request INFO
  const carol = await startCarol(path.join(SIP_SUPPORT_DIR, 'uas_split_pcmu_info.xml'));
  const body = aliceCalls('sipp-split', 'carol');
  await startCall(server, body);
  const call = await waitCallStatus(server, body.callId, 'ESTABLISHED', 15_000);
  expect(call).toMatchObject({ audioCodec: 'PCMU', videoCodec: 'H264' });
  await openPlayer(page, server, body.toStream);
  const stats = await expectPlays(page, { video: true });
  console.log(`[sipp uas_split_pcmu] ${describeStats(stats)}`);
  expect((await rest(server, 'call/terminate', { callId: body.callId })).status).toBe(200);
  await expectViewerEnded(page, ['STOPPED'], 'Stopped by publisher stop');
  await waitCallGone(server, body.callId);
  const r = await carol.result;
  expect(r.code, `SIPp callee got our BYE and finished its scenario\n${carol.messages()}`).toBe(0);
  const msgs = carol.messages();
  expect(msgs).toMatch(/^BYE sip:uas@/m);
  // the viewer's keyframe request reached the callee as SIP INFO picture_fast_update (besides RTCP PLI)
  expect(msgs, 'INFO picture_fast_update').toMatch(/^INFO sip:uas@[\s\S]*picture_fast_update/m);
});

// ---- 4. busy, wrong password, terminate while ringing -------------------------------------------------

test('busy callee (SIPp 486): the call ends BUSY, then /call/find answers 404', async () => {
  const carol = await startCarol('uas_busy');
  const cap = await capture();
  const body = aliceCalls('busy', 'carol');
  await startCall(server, body);
  expect(await waitLoggedEnd(server, body.callId)).toBe('BUSY');
  // A failed call stays readable for a while, with the SIP status that ended it.
  const busy = await findCall(server, body.callId);
  expect(busy.status, busy.text).toBe(200);
  expect(JSON.parse(busy.text)[0]).toMatchObject({ status: 'BUSY', sipStatus: 486 });
  await waitCallGone(server, body.callId, 20_000);
  expect((await rest(server, 'call/terminate', { callId: body.callId })).status, 'terminate of a gone call').toBe(404);
  const statuses = loggedStatuses(server, body.callId);
  console.log(`[busy] server log: ${callLog(server, body.callId).join(' | ')}`);
  expect(statuses, callLog(server, body.callId).join('\n')).toEqual(expect.arrayContaining(['TRYING', 'BUSY']));
  expect(statuses[statuses.length - 1]).toBe('BUSY');
  expect((await carol.result).code, carol.messages()).toBe(0);
  wire = await cap.stop();
  const { all: w, sent } = ours(wire);
  const trace = describeWire(wire);
  const finals = w.filter((m) => !sent(m) && m.status >= 300 && /INVITE/.test(m.cseq)).map((m) => m.status);
  expect(finals[finals.length - 1], `last final response to our INVITE\n${trace}`).toBe(486);
  expect(w.filter((m) => sent(m) && m.method === 'ACK').length, trace).toBeGreaterThanOrEqual(2); // 407 and 486
});

test('wrong password: INVITE 407 twice -> FAILED; with sipRegisterRequired REGISTER 401 twice -> FAILED, no INVITE', async () => {
  // INVITE with a wrong password: Kamailio challenges again; the UA gives up after one retry
  let cap = await capture();
  const body = aliceCalls('badpw-invite', 'carol', { sipPassword: 'wrong-password' });
  await startCall(server, body);
  expect(await waitLoggedEnd(server, body.callId)).toBe('FAILED');
  const failed = await findCall(server, body.callId);
  expect(JSON.parse(failed.text)[0], failed.text).toMatchObject({ status: 'FAILED', sipStatus: 407 });
  await waitCallGone(server, body.callId, 20_000);
  wire = await cap.stop();
  const { all: w, sent } = ours(wire);
  let trace = describeWire(wire);
  const invites = w.filter((m) => sent(m) && m.method === 'INVITE');
  expect(invites.length, `one INVITE and one retry with credentials\n${trace}`).toBe(2);
  const finals = w.filter((m) => !sent(m) && m.status >= 300 && /INVITE/.test(m.cseq)).map((m) => m.status);
  expect(finals, trace).toEqual([407, 407]);
  expect(callLog(server, body.callId).join('\n')).not.toContain('wrong-password');
  expect(server.logs()).not.toContain('wrong-password');

  // REGISTER with a wrong password
  cap = await capture();
  const reg = aliceCalls('badpw-register', 'carol', { sipPassword: 'wrong-password', sipRegisterRequired: true });
  await startCall(server, reg);
  expect(await waitLoggedEnd(server, reg.callId)).toBe('FAILED');
  const regFailed = await findCall(server, reg.callId);
  expect(JSON.parse(regFailed.text)[0], regFailed.text).toMatchObject({ status: 'FAILED', sipStatus: 401 });
  await waitCallGone(server, reg.callId, 20_000);
  wire = await cap.stop();
  const { all: w2, sent: sent2 } = ours(wire);
  trace = describeWire(wire);
  const regFinals = w2.filter((m) => !sent2(m) && m.status >= 300 && /REGISTER/.test(m.cseq)).map((m) => m.status);
  expect(regFinals, trace).toEqual([401, 401]);
  expect(w2.filter((m) => sent2(m) && m.method === 'INVITE'), `no INVITE after a failed REGISTER\n${trace}`).toEqual([]);
  console.log(`[wrong password] INVITE: ${callLog(server, body.callId).join(' | ')}`);
  console.log(`[wrong password] REGISTER: ${callLog(server, reg.callId).join(' | ')}`);
  // the failure names the SIP status in the server log ("setup failed: ... 401 ...")
  expect(callLog(server, reg.callId).join('\n')).toMatch(/401/);
});

test('terminate while ringing: CANCEL on the wire, the callee answers 487, the call ends', async () => {
  const carol = await startCarol('uas_ringing');
  const cap = await capture();
  const cancels0 = kam.count(/REQ CANCEL /);
  const body = aliceCalls('ringing', 'carol');
  await startCall(server, body);
  const ringing = await waitCallStatus(server, body.callId, 'RING', 10_000);
  expect(ringing.sipStatus).toBe(180);
  expect((await rest(server, 'call/terminate', { callId: body.callId })).status).toBe(200);
  await waitCallGone(server, body.callId);
  expect(await waitLoggedEnd(server, body.callId)).toBe('FINISH');
  const r = await carol.result;
  const msgs = carol.messages();
  expect(r.code, `SIPp callee: CANCEL -> 200 + 487 -> ACK\n${msgs}`).toBe(0);
  expect(msgs).toMatch(/^CANCEL sip:/m);
  expect(msgs).toMatch(/^SIP\/2\.0 487 Request Terminated/m);
  expect(kam.count(/REQ CANCEL /) - cancels0, 'Kamailio relayed a CANCEL').toBeGreaterThanOrEqual(1);
  wire = await cap.stop();
  const { all: w, sent } = ours(wire);
  const trace = describeWire(wire);
  const cancel = w.find((m) => sent(m) && m.method === 'CANCEL');
  expect(cancel, trace).toBeDefined();
  const invite = w.filter((m) => sent(m) && m.method === 'INVITE').pop()!;
  // the CANCEL matches the INVITE: same Request-URI, Call-ID, CSeq number and top Via branch
  expect(cancel!.startLine.split(' ')[1]).toBe(invite.startLine.split(' ')[1]);
  expect(header(cancel!, 'Call-ID')).toBe(header(invite, 'Call-ID'));
  expect(header(cancel!, 'CSeq')).toBe(`${header(invite, 'CSeq').split(' ')[0]} CANCEL`);
  expect(/branch=([^;\s,]+)/.exec(header(cancel!, 'Via'))?.[1]).toBe(/branch=([^;\s,]+)/.exec(header(invite, 'Via'))?.[1]);
  expect(w.some((m) => !sent(m) && m.status === 200 && /CANCEL/.test(m.cseq)), trace).toBe(true);
  expect(w.some((m) => !sent(m) && m.status === 487 && /INVITE/.test(m.cseq)), trace).toBe(true);
  // the 487 is ACKed
  const i487 = w.findIndex((m) => !sent(m) && m.status === 487);
  expect(w.slice(i487).some((m) => sent(m) && m.method === 'ACK'), trace).toBe(true);
  expect(w.some((m) => sent(m) && m.method === 'BYE'), `no BYE for a call never answered\n${trace}`).toBe(false);
});

// ---- 5. the callee hangs up ---------------------------------------------------------------------------

test('baresip hangs up: the call is gone (404) and the Chromium viewer gets STOPPED "Stopped by publisher stop"', async ({ page }) => {
  test.setTimeout(60_000);
  const bob = await startBob();
  const cap = await capture();
  const body = aliceCalls('calleebye', 'bob');
  await startCall(server, body);
  await waitCallStatus(server, body.callId, 'ESTABLISHED', 15_000);
  await openPlayer(page, server, body.toStream);
  await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  await waitForDecodedFrames(page, 1, FIRST_FRAME_MS);
  const resp = await bob.ctrl('/hangup');
  expect(resp.ok, resp.data).toBe(true);
  await expectViewerEnded(page, ['STOPPED'], 'Stopped by publisher stop');
  await waitCallGone(server, body.callId);
  expect(await waitLoggedEnd(server, body.callId)).toBe('FINISH');
  expect(await statusHistory(page)).toEqual(['PENDING', 'PLAYING', 'STOPPED']);
  expect(await findStream(server, body.toStream), 'the stream is gone too').toBeNull();
  wire = await cap.stop();
  const { all: w, sent } = ours(wire);
  const trace = describeWire(wire);
  expect(w.some((m) => !sent(m) && m.method === 'BYE'), `BYE from the callee\n${trace}`).toBe(true);
  expect(w.some((m) => sent(m) && m.status === 200 && /BYE/.test(m.cseq)), `200 to the BYE\n${trace}`).toBe(true);
  expect(w.some((m) => sent(m) && m.method === 'BYE'), `we send no BYE of our own\n${trace}`).toBe(false);
});

// ---- 6. the callee stops sending RTP ----------------------------------------------------------------

test('callee stops sending RTP (SIPCAST_RTP_ACTIVITY_DETECTING=3): viewer ends "Failed by RTP activity", BYE, call gone', async ({ page }) => {
  test.setTimeout(60_000);
  const sipPort = await pickPort(25110, 'udp+tcp');
  const own = await startServer({
    name: 'sip-rtp-activity',
    wsPort: 18290,
    httpPort: 18291,
    requireSdk: true,
    env: {
      SIPCAST_SIP_PORT: String(sipPort),
      SIPCAST_RTP_PORT_MIN: '32200',
      SIPCAST_RTP_PORT_MAX: '32299',
      SIPCAST_DEMO_CALLEE: 'false',
      SIPCAST_RTP_ACTIVITY_DETECTING: '3',
      SIPCAST_LOG_LEVEL: 'debug',
    },
  });
  extraServers.push(own);
  // media for 4 s after the ACK, then nothing (the call stays up on the callee's side)
  const uas = await startCarol(path.join(SIP_SUPPORT_DIR, 'uas_pcmu_rtp_stops.xml'), { direct: true, holdMs: 4_000, timeoutSec: 60 });
  const cap = await capture(sipPort);
  const body: CallStartup = { ...callIds('rtp-stops'), callee: 'uas', sipLogin: 'alice', sipDomain: `127.0.0.1:${uas.sipPort}`, hasVideo: false };
  await startCall(own, body);
  await waitCallStatus(own, body.callId, 'ESTABLISHED', 10_000);
  const established = Date.now();
  await openPlayer(page, own, body.toStream);
  await expect(page.locator('#status')).toHaveText('PLAYING', { timeout: 15_000 });
  await waitFor('PCMU audio in Chromium', () => pcStats(page), (s) => (s?.audio?.bytesReceived ?? 0) > 500, { timeoutMs: 5_000, describe: describeStats });

  // RTP ends ~4 s after the ACK; 3 s later the server gives up on the call
  await expectViewerEnded(page, ['FAILED', 'STOPPED'], 'Failed by RTP activity', 15_000);
  const endedAfter = Date.now() - established;
  const ended = await playerState(page);
  console.log(`[rtp activity] viewer ${ended.stream} "${ended.info}" ${endedAfter} ms after ESTABLISHED (RTP stopped ~4000 ms after the ACK, timeout 3 s)`);
  expect(endedAfter, 'not before the RTP stopped + the 3 s timeout').toBeGreaterThan(5_500);
  await waitCallGone(own, body.callId);
  expect(await waitLoggedEnd(own, body.callId)).toBe('FAILED');
  expect(callLog(own, body.callId).join('\n')).toMatch(/no RTP for 3 s/);
  const r = await uas.result;
  expect(r.code, `the callee got our BYE\n${uas.messages()}`).toBe(0);
  wire = await cap.stop();
  const { all: w, sent } = ours(wire, sipPort);
  expect(w.some((m) => sent(m) && m.method === 'BYE'), describeWire(wire)).toBe(true);
});

// ---- 7. fast start with a real softphone (10 s GOP) ----------------------------------------------------

/** Page hook: time of the click on #playBtn and of the first video frame presented (requestVideoFrameCallback). */
function fastStartProbe(): void {
  const w = window as unknown as { __fastStart?: FastStart };
  if (w.__fastStart) return;
  const fs = { click: 0, firstFrame: 0, clickEpoch: 0, video: false };
  w.__fastStart = fs;
  const hook = (v: HTMLVideoElement) => {
    const anyV = v as HTMLVideoElement & { __fsHooked?: boolean };
    if (anyV.__fsHooked) return;
    anyV.__fsHooked = true;
    fs.video = true;
    const onFrame = () => {
      if (fs.click && !fs.firstFrame && v.videoWidth > 0) fs.firstFrame = performance.now();
      else v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  };
  const scan = () => document.querySelectorAll('video').forEach((v) => hook(v));
  const start = () => {
    scan();
    new MutationObserver(scan).observe(document.documentElement, { subtree: true, childList: true });
    document.addEventListener(
      'click',
      (e) => {
        if ((e.target as Element | null)?.closest?.('#playBtn') && !fs.click) {
          fs.click = performance.now();
          fs.clickEpoch = Date.now();
        }
      },
      true,
    );
  };
  if (document.documentElement) start();
  else document.addEventListener('readystatechange', start, { once: true });
}

type FastStart = { click: number; firstFrame: number; clickEpoch: number; video: boolean };

interface FastStartSample {
  joinedAfterCallStartS: number;
  playClickToPlayingMs: number | null;
  playClickToFirstFrameMs: number;
  clickEpoch: number;
  chromium: string;
}

/** One viewer: open the Player (no autoplay), wait until `joinAt`, press Start, time the first frame. */
async function fastStartSample(context: BrowserContext, stream: string, established: number, joinAt: number): Promise<FastStartSample> {
  const page = await context.newPage();
  try {
    await page.addInitScript(fastStartProbe);
    await openPlayer(page, server, stream, false);
    await expect(page.locator('#playBtn')).toHaveText('Start');
    await page.waitForTimeout(Math.max(0, joinAt - Date.now()));
    await page.click('#playBtn');
    const fs = await waitFor(
      'first video frame presented',
      () => page.evaluate(() => (window as unknown as { __fastStart: FastStart }).__fastStart),
      (f) => f.firstFrame > 0,
      { timeoutMs: 15_000, describe: (f) => JSON.stringify(f) },
    );
    await waitFor('<video> 640x360', () => videoSize(page), (v) => v.videoWidth === 640 && v.videoHeight === 360, {
      timeoutMs: 5_000,
      describe: (v) => JSON.stringify(v),
    });
    const log = await page.evaluate(() => (window as unknown as { __e2eStatusLog: { t: number; status: string }[] }).__e2eStatusLog);
    const playingAt = log.find((e) => e.status === 'PLAYING')?.t ?? 0;
    return {
      joinedAfterCallStartS: Math.round((fs.clickEpoch - established) / 100) / 10,
      playClickToPlayingMs: playingAt ? playingAt - fs.clickEpoch : null,
      playClickToFirstFrameMs: Math.round(fs.firstFrame - fs.click),
      clickEpoch: fs.clickEpoch,
      chromium: describeStats(await pcStats(page)),
    };
  } finally {
    await page.close();
  }
}

test('fast start: viewers joining ~35-43 s into a baresip call (GOP ~10 s) see a picture quickly (measured, reported)', async ({ context }, testInfo) => {
  test.setTimeout(100_000);
  const bob = await startBob();
  const cap = await capture();
  const body = aliceCalls('faststart', 'bob');
  await startCall(server, body);
  await waitCallStatus(server, body.callId, 'ESTABLISHED', 15_000);
  const established = Date.now();
  // join mid-GOP (baresip: an IDR at call start, then every ~10 s), one viewer at a time, 4 s apart
  const samples: FastStartSample[] = [];
  for (const offsetS of [35, 39, 43]) {
    samples.push(await fastStartSample(context, body.toStream, established, established + offsetS * 1000));
  }
  const call = (await findCall(server, body.callId)).call;
  expect(call?.status, 'the call is still up after 40+ s').toBe('ESTABLISHED');
  await rest(server, 'call/terminate', { callId: body.callId });
  await waitCallGone(server, body.callId);
  await bob.waitForEvent('CALL_CLOSED', 5_000);

  // the keyframe requests sent as SIP INFO to baresip, relative to each viewer's click
  wire = await cap.stop();
  const { all: w, sent } = ours(wire);
  const infos = w.filter((m) => sent(m) && m.method === 'INFO' && /picture_fast_update/.test(m.text)).map((m) => m.at);
  const report = samples.map((smp) => ({
    ...smp,
    infoAfterClickMs: infos.filter((t) => t >= smp.clickEpoch - 50 && t < smp.clickEpoch + 3_000).map((t) => Math.round(t - smp.clickEpoch)),
  }));
  const figures = report.map((r) => r.playClickToFirstFrameMs);
  const sorted = [...figures].sort((x, y) => x - y);
  const line =
    `play() -> first decoded frame: ${figures.join(' / ')} ms (median ${sorted[1]} ms; viewers joined ` +
    `${report.map((r) => r.joinedAfterCallStartS).join(' / ')} s into the call; target 300 ms, reported not asserted)`;
  console.log(`[fast start] ${line}`);
  for (const r of report) {
    console.log(
      `[fast start]   joined ${r.joinedAfterCallStartS} s: PLAYING after ${r.playClickToPlayingMs} ms, first frame after ${r.playClickToFirstFrameMs} ms, ` +
        `INFO picture_fast_update at ${r.infoAfterClickMs.join(', ') || 'none'} ms | ${r.chromium}`,
    );
  }
  testInfo.annotations.push({ type: 'fast-start', description: line });
  await testInfo.attach('fast-start.json', { body: JSON.stringify(report, null, 2), contentType: 'application/json' });
  // sanity bound only (a 10 s GOP without any keyframe help would take up to 10 s)
  for (const r of report) expect(r.playClickToFirstFrameMs, JSON.stringify(r)).toBeLessThan(3_000);
});

// ---- 8. the built-in demo callee from the page's defaults --------------------------------------------

async function openSipAsRtmp(context: BrowserContext): Promise<Page> {
  await instrumentPage(context);
  const page = await context.newPage();
  await page.goto(`${server.httpUrl}/sip-as-rtmp/`, { waitUntil: 'domcontentloaded' });
  return page;
}

test('built-in demo callee: the page pre-filled for it reaches ESTABLISHED and Watch plays 640x360', async ({ context }) => {
  test.setTimeout(60_000);
  const page = await openSipAsRtmp(context);
  // the pre-filled defaults: the demo callee, no account
  await expect(page.locator('#sipDomain')).toHaveValue('127.0.0.1:5090');
  await expect(page.locator('#callee')).toHaveValue('demo');
  await expect(page.locator('#sipRegisterRequired')).not.toBeChecked();
  // this server's demo callee listens on another port (5090 may be taken on a test machine)
  await page.fill('#sipDomain', `127.0.0.1:${demoPort}`);
  await page.click('#callBtn');
  await expect(page.locator('#callStatus')).toHaveText('ESTABLISHED', { timeout: PAGE_STATUS_MS });
  const { callId, streamName } = await page.evaluate(
    () => (window as unknown as { sipAsRtmp: { state(): { callId: string; streamName: string } } }).sipAsRtmp.state(),
  );
  const [player] = await Promise.all([context.waitForEvent('page'), page.click('#watchLink')]);
  await player.waitForLoadState('domcontentloaded');
  expect(new URL(player.url()).searchParams.get('streamName')).toBe(streamName);
  const stats = await expectPlays(player, { video: true });
  console.log(`[demo callee] ${describeStats(stats)}`);
  await page.click('#callBtn');
  await expectViewerEnded(player, ['STOPPED'], 'Stopped by publisher stop');
  await expect(page.locator('#callStatus')).toHaveText('FINISHED', { timeout: PAGE_STATUS_MS });
  await waitCallGone(server, callId);
});
