/**
 * Self-check of the SIP/RTMP peer harness (tests/e2e/support/peers, tests/peers) WITHOUT sipcast: proves that
 * Kamailio, baresip, SIPp and nginx-rtmp start, talk to each other and send real media on this machine.
 * Fails (does not skip) when a peer is missing, unless SIPCAST_E2E_SKIP_MISSING_PEERS=1.
 *
 * Ports (each the first free one from): Kamailio 15060 (UDP+TCP), baresip SIP 15070/ctrl 15080/RTP 20100-20139,
 * SIPp callers 15061 (media 16000), callees 15090 (media 16100), register helper 15300, RTP tap 16200,
 * nginx RTMP 11935 + stat 11980.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type TestInfo } from '@playwright/test';
import {
  ensurePeerMedia,
  ffprobe,
  requirePeers,
  runSippUac,
  sipOptionsPing,
  startBaresip,
  startKamailio,
  startNginxRtmp,
  startRtmpPush,
  startRtpTap,
  startSippUas,
  type Kamailio,
  type NginxRtmp,
  type RtmpPush,
  type SippResult,
  type SippUas,
} from './support/peers';
import { makeRunDir, removeRunDir } from './support/peers/process';

let kam: Kamailio | undefined;
/** Everything a test started; stopped (and logged on failure) in afterEach. */
let started: { name: string; logs(): string; stop(): Promise<unknown> }[] = [];
let results: { name: string; result: SippResult }[] = [];

function track<T extends { logs(): string; stop(): Promise<unknown> }>(name: string, h: T): T {
  started.push({ name, logs: () => h.logs(), stop: () => h.stop() });
  return h;
}

async function attachLogs(testInfo: TestInfo): Promise<void> {
  if (testInfo.status === testInfo.expectedStatus) return;
  for (const s of started) await testInfo.attach(`${s.name}.log`, { body: s.logs(), contentType: 'text/plain' });
  for (const r of results) await testInfo.attach(`${r.name}.log`, { body: r.result.logs, contentType: 'text/plain' });
  if (kam) await testInfo.attach('kamailio.log', { body: kam.logs(), contentType: 'text/plain' });
}

test.beforeAll(async () => {
  requirePeers(['kamailio', 'baresip', 'sipp', 'sippPcapPlay', 'nginxRtmp', 'ffmpeg', 'ffprobe']);
  test.setTimeout(120_000); // a cold media cache takes ~10-20 s to generate
  await ensurePeerMedia();
  kam = await startKamailio({ port: 15060 });
});

test.afterEach(async ({}, testInfo) => {
  await attachLogs(testInfo);
  // stop in reverse order (callees unregister while Kamailio still runs)
  for (const s of started.reverse()) await s.stop();
  started = [];
  results = [];
});

test.afterAll(async () => {
  await kam?.stop();
});

test('kamailio answers OPTIONS over UDP', async () => {
  expect(await sipOptionsPing(kam!.host, kam!.port)).toBe('SIP/2.0 200 Keepalive');
});

test('baresip registers as bob; SIPp alice calls it through kamailio (407) and receives H.264 + opus', async () => {
  const bob = track('baresip-bob', await startBaresip({ name: 'bob', registrar: { host: kam!.host, port: kam!.port, transport: 'udp' }, audioCodecs: ['opus', 'PCMU', 'PCMA'] }));
  await kam!.waitForRegistration('bob', 5_000);
  const tap = track('rtp-tap', await startRtpTap({ preferredPort: 16200, keepH264Packets: 5000 }));
  const [audioPort, videoPort] = tap.ports as [number, number];
  const r = await runSippUac({
    scenario: 'uac_invite_auth',
    target: kam!,
    service: 'bob',
    auth: { user: 'alice' },
    holdMs: 4_000,
    keys: { dir: 'sendrecv', audio_pts: '111 0 8', audio_port: audioPort, video_port: videoPort },
  });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code, 'sipp caller exit code').toBe(0);
  expect(r.logs).toContain('SIP/2.0 407 Proxy Authentication Required');
  expect(r.logs).toMatch(/Record-Route: <sip:127\.0\.0\.1/);

  const s = tap.stats();
  const video = s.port(videoPort);
  const audio = s.port(audioPort);
  expect(video.byPt[96] ?? 0, 'H.264 packets (PT 96)').toBeGreaterThan(50);
  expect(video.h264.sps, 'SPS').toBeGreaterThanOrEqual(1);
  expect(video.h264.idr, 'IDR').toBeGreaterThanOrEqual(1);
  expect(video.h264.frames, 'frames').toBeGreaterThan(50);
  expect(audio.byPt[111] ?? 0, 'opus packets (PT 111)').toBeGreaterThan(100);
  expect(video.sources[0]).toMatch(/^127\.0\.0\.1:\d+$/);

  // the H.264 baresip sent decodes to 640x360
  const dir = makeRunDir('h264-check');
  try {
    const file = path.join(dir, 'bob.h264');
    writeFileSync(file, tap.h264AnnexB(videoPort));
    const info = await ffprobe(file, { inputArgs: ['-f', 'h264'], countFrames: true });
    expect(info.streams[0]).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(Number(info.streams[0]!.nb_read_frames)).toBeGreaterThan(50);
  } finally {
    removeRunDir(dir);
  }
  await bob.stop();
});

test('baresip answers with PCMU from an offer "0 8" and hangs up via ctrl_tcp', async () => {
  const bob = track('baresip-bob', await startBaresip({ name: 'bob', registrar: { host: kam!.host, port: kam!.port, transport: 'udp' }, audioCodecs: ['PCMU', 'PCMA', 'opus'] }));
  const tap = track('rtp-tap', await startRtpTap({ preferredPort: 16200 }));
  const [audioPort, videoPort] = tap.ports as [number, number];
  const caller = runSippUac({
    scenario: 'uac_invite_auth_waitbye',
    target: kam!,
    service: 'bob',
    auth: { user: 'alice' },
    timeoutSec: 20,
    keys: { dir: 'recvonly', audio_pts: '0 8', audio_port: audioPort, video_port: videoPort },
  });
  await bob.waitForEvent('CALL_ESTABLISHED', 10_000);
  await tap.waitFor((st) => (st.port(audioPort).byPt[0] ?? 0) > 50 && (st.port(videoPort).byPt[96] ?? 0) > 20, 5_000, 'PCMU + H.264 from bob');
  const resp = await bob.ctrl('/hangup');
  expect(resp.ok).toBe(true);
  const r = await caller;
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code, 'caller got the BYE and answered it').toBe(0);
  expect(r.logs).toMatch(/BYE sip:alice@127\.0\.0\.1/);
  await bob.waitForEvent('CALL_CLOSED', 5_000);
  expect(tap.stats().port(audioPort).byPt[8] ?? 0).toBe(0);
});

test('baresip "busy" rejects with 486', async () => {
  track('baresip-bob-busy', await startBaresip({ name: 'bob', registrar: { host: kam!.host, port: kam!.port, transport: 'tcp' }, answerMode: 'busy' }));
  const r = await runSippUac({ scenario: 'uac_invite_auth_busy', target: kam!, service: 'bob', auth: { user: 'alice' }, timeoutSec: 15 });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code).toBe(0);
  expect(r.logs).toContain('SIP/2.0 486');
});

test('baresip without registration answers a direct call over TCP', async () => {
  const bob = track('baresip-bob-direct', await startBaresip({ name: 'bob', transport: 'tcp', audioCodecs: ['PCMA'] }));
  expect(bob.directUri).toMatch(/^sip:bob@127\.0\.0\.1:\d+;transport=tcp$/);
  const tap = track('rtp-tap', await startRtpTap({ preferredPort: 16200 }));
  const [audioPort, videoPort] = tap.ports as [number, number];
  const r = await runSippUac({
    scenario: 'uac_invite',
    target: { host: '127.0.0.1', port: bob.sipPort },
    transport: 'tcp',
    service: 'bob',
    holdMs: 2_000,
    keys: { dir: 'recvonly', audio_pts: '0 8', audio_port: audioPort, video_port: videoPort },
  });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code).toBe(0);
  const st = tap.stats();
  expect(st.port(audioPort).byPt[8] ?? 0, 'PCMA (the only codec bob allows)').toBeGreaterThan(50);
  expect(st.port(videoPort).byPt[96] ?? 0).toBeGreaterThan(20);
});

test('SIPp callee registered as carol is called through kamailio and sends H.264 + PCMU from a pcap', async () => {
  const carol: SippUas = track('sipp-uas-carol', await startSippUas({ scenario: 'uas_av_pcmu', register: { registrar: kam!, user: 'carol' } }));
  await kam!.waitForRegistration('carol', 2_000);
  const tap = track('rtp-tap', await startRtpTap({ preferredPort: 16200 }));
  const [audioPort, videoPort] = tap.ports as [number, number];
  expect(videoPort).toBe(audioPort + 2); // uas_av_* sends video to the offer's audio port + 2
  const r = await runSippUac({
    scenario: 'uac_invite_auth',
    target: kam!,
    service: 'carol',
    auth: { user: 'alice' },
    holdMs: 3_000,
    keys: { dir: 'recvonly', audio_pts: '0', audio_port: audioPort, video_port: videoPort },
  });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code, 'caller').toBe(0);
  const callee = await carol.result;
  expect(callee.code, 'callee').toBe(0);
  const s = tap.stats();
  expect(s.port(videoPort).byPt[96] ?? 0).toBeGreaterThan(200);
  expect(s.port(videoPort).h264.sps).toBeGreaterThanOrEqual(1);
  expect(s.port(audioPort).byPt[0] ?? 0).toBeGreaterThan(100);
});

test('SIPp callee called directly: PCMA by rtp_stream + H.264 by pcap on independent ports, callee hangs up', async () => {
  const uas = track('sipp-uas-split', await startSippUas({ scenario: 'uas_split_pcma_calleebye', holdMs: 2_500 }));
  const tap = track('rtp-tap', await startRtpTap({ preferredPort: 16200, streams: 3 }));
  const [audioPort, , videoPort] = tap.ports as [number, number, number];
  const r = await runSippUac({
    scenario: 'uac_invite_waitbye',
    target: { host: '127.0.0.1', port: uas.sipPort },
    service: 'uas',
    timeoutSec: 15,
    keys: { dir: 'recvonly', audio_pts: '8', audio_port: audioPort, video_port: videoPort },
  });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code, 'caller (gets the BYE)').toBe(0);
  expect((await uas.result).code, 'callee').toBe(0);
  const st = tap.stats();
  expect(st.port(audioPort).byPt[8] ?? 0).toBeGreaterThan(80);
  expect(st.port(videoPort).byPt[96] ?? 0).toBeGreaterThan(150);
  expect(st.port(videoPort).h264.idr).toBeGreaterThanOrEqual(1);
});

test('SIPp ringing callee: the caller CANCELs, gets 487', async () => {
  const carol = track('sipp-uas-ringing', await startSippUas({ scenario: 'uas_ringing', register: { registrar: kam!, user: 'carol' } }));
  const r = await runSippUac({ scenario: 'uac_invite_auth_cancel', target: kam!, service: 'carol', auth: { user: 'alice' }, holdMs: 1_000, timeoutSec: 15 });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code, 'caller').toBe(0);
  // the 487 reaches the caller through Kamailio, so it carries the caller's own Via
  expect(r.logs).toMatch(/SIP\/2\.0 487 Request Terminated\r?\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;/);
  expect((await carol.result).code, 'callee').toBe(0);
});

test('SIPp busy callee answers 486', async () => {
  const carol = track('sipp-uas-busy', await startSippUas({ scenario: 'uas_busy', register: { registrar: kam!, user: 'carol' } }));
  const r = await runSippUac({ scenario: 'uac_invite_auth_busy', target: kam!, service: 'carol', auth: { user: 'alice' }, timeoutSec: 15 });
  results.push({ name: 'sipp-uac', result: r });
  expect(r.code).toBe(0);
  expect((await carol.result).code).toBe(0);
});

test('nginx-rtmp accepts an ffmpeg push (H.264 + AAC) and ffprobe reads it back', async () => {
  const rtmp: NginxRtmp = track('nginx-rtmp', await startNginxRtmp({ port: 11935 }));
  const push: RtmpPush = track('ffmpeg-push', await startRtmpPush({ url: rtmp.url('test'), audio: 'aac', durationSec: 20 }));
  const st = await rtmp.waitForStream('test', 10_000, true);
  expect(st.video).toMatchObject({ codec: 'H264', width: 640, height: 360 });
  expect(st.audio?.codec).toBe('AAC');
  const info = await ffprobe(rtmp.url('test'), { timeoutMs: 15_000 });
  const v = info.streams.find((x) => x.codec_type === 'video');
  const a = info.streams.find((x) => x.codec_type === 'audio');
  expect(v).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
  expect(a).toMatchObject({ codec_name: 'aac' });
  await push.stop();
});
