import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { MediaKind } from '../media/MediaTypes.js';
import { rtpMarker, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from '../rtp/RtpHeader.js';
import { parseRtcpFeedback } from '../rtp/rtcp.js';
import { Logger } from '../util/Logger.js';
import { readTelephoneEvent } from './Dtmf.js';
import type { RtpClock } from './RtpClock.js';
import { bindPortPair } from './RtpPortAllocator.js';
import { RtpSession, type RtpStartOptions, type RtpTarget } from './RtpSession.js';
import { parseSipAnswer, type SipAnswer } from './SipSdp.js';

const log = new Logger('silent');
// A range of our own so parallel test files and other engineers' tests do not collide.
const PORT_MIN = 27400;
const PORT_MAX = 27599;

/** Manual clock: advance() runs due timers in time order. */
class FakeClock implements RtpClock {
  t = 10_000;
  #timers: Array<{ ms: number; next: number; fn: () => void }> = [];
  now(): number {
    return this.t;
  }
  every(ms: number, fn: () => void): () => void {
    const e = { ms, next: this.t + ms, fn };
    this.#timers.push(e);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== e);
    };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.#timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}

/** A UDP socket standing in for the SIP peer, collecting what it receives. */
class Peer {
  readonly got: Array<{ msg: Buffer; from: number }> = [];
  private constructor(readonly sock: dgram.Socket) {
    sock.on('message', (msg, r) => this.got.push({ msg, from: r.port }));
  }
  static async bind(address = '127.0.0.1'): Promise<Peer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, address, res));
    return new Peer(s);
  }
  get port(): number {
    return this.sock.address().port;
  }
  send(buf: Buffer, port: number): Promise<void> {
    return new Promise((res, rej) => this.sock.send(buf, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  }
  close(): void {
    this.sock.close();
  }
}

class Collector implements RtpTarget {
  readonly packets: Array<{ kind: MediaKind; packet: Buffer }> = [];
  pushRtp(kind: MediaKind, packet: Buffer): void {
    this.packets.push({ kind, packet });
  }
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rtp(pt: number, seq: number, ssrc: number, payload: Buffer | number = 20): Buffer {
  const body = typeof payload === 'number' ? Buffer.alloc(payload, 0x11) : payload;
  const buf = Buffer.alloc(12 + body.length);
  writeRtpHeader(buf, { payloadType: pt, marker: false, seq, timestamp: seq * 960, ssrc });
  body.copy(buf, 12);
  return buf;
}

/** The peer's answer, through the real parser. */
function answer(o: {
  address?: string;
  audio?: { port: number; rtcpPort?: number; pts?: string; te?: boolean };
  video?: { port: number; rtcpPort?: number };
}): SipAnswer {
  const addr = o.address ?? '127.0.0.1';
  let sdp = `v=0\r\no=- 1 1 IN IP4 ${addr}\r\ns=-\r\nc=IN IP4 ${addr}\r\nt=0 0\r\n`;
  if (o.audio) {
    const te = o.audio.te ?? true;
    sdp += `m=audio ${o.audio.port} RTP/AVP ${o.audio.pts ?? '111'}${te ? ' 101' : ''}\r\na=rtpmap:111 opus/48000/2\r\n`;
    if (te) sdp += 'a=rtpmap:101 telephone-event/8000\r\n';
    if (o.audio.rtcpPort) sdp += `a=rtcp:${o.audio.rtcpPort}\r\n`;
  }
  if (o.video) {
    sdp += `m=video ${o.video.port} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n`;
    if (o.video.rtcpPort) sdp += `a=rtcp:${o.video.rtcpPort}\r\n`;
  }
  return parseSipAnswer(sdp, { audio: {}, video: {} });
}

const OFF: RtpStartOptions = { initAlways: false, inactivityTimeoutMs: 0, latching: 'off' };

test('open: even RTP port, RTCP = RTP + 1, in range, no two sessions share ports', async () => {
  const sessions = await Promise.all(
    Array.from({ length: 6 }, () => RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio', 'video'], log })),
  );
  try {
    const seen = new Set<number>();
    for (const s of sessions) {
      for (const kind of ['audio', 'video'] as const) {
        const p = s.ports[kind];
        assert.ok(p);
        assert.equal(p.rtp % 2, 0);
        assert.equal(p.rtcp, p.rtp + 1);
        assert.ok(p.rtp >= PORT_MIN && p.rtcp <= PORT_MAX);
        assert.ok(!seen.has(p.rtp), `port ${p.rtp} handed out twice`);
        seen.add(p.rtp);
      }
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
});

test('open: skips a pair another process holds (EADDRINUSE), fails cleanly when the range is full', async () => {
  const blocker = dgram.createSocket('udp4');
  await new Promise<void>((res) => blocker.bind(27600, '127.0.0.1', res));
  try {
    // range 27600-27603 has two pairs; 27600 is taken by "someone else"
    for (let i = 0; i < 5; i++) {
      const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: 27600, portMax: 27603, kinds: ['audio'], log });
      assert.deepEqual(s.ports.audio, { rtp: 27602, rtcp: 27603 });
      await assert.rejects(
        RtpSession.open({ bindAddress: '127.0.0.1', portMin: 27600, portMax: 27603, kinds: ['audio'], log }),
        /no free RTP port pair/,
      );
      await s.close();
    }
    await assert.rejects(bindPortPair('127.0.0.1', 27601, 27601), RangeError);
  } finally {
    blocker.close();
  }
});

test('forwards valid RTP from the SDP address as fresh buffers; firstPacket once per kind', async () => {
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio', 'video'], log });
  const peer = await Peer.bind();
  const target = new Collector();
  const first: MediaKind[] = [];
  s.on('firstPacket', (k) => first.push(k));
  try {
    s.start(answer({ audio: { port: peer.port }, video: { port: peer.port } }), target, OFF);
    const sent = [rtp(111, 1, 0xaaaa), rtp(111, 2, 0xaaaa), rtp(96, 7, 0xbbbb, 1000)];
    await peer.send(sent[0]!, s.ports.audio!.rtp);
    await peer.send(sent[1]!, s.ports.audio!.rtp);
    await peer.send(sent[2]!, s.ports.video!.rtp);
    await waitFor(() => target.packets.length === 3, '3 packets');
    const byKind = (k: MediaKind): Buffer[] => target.packets.filter((p) => p.kind === k).map((p) => p.packet);
    assert.deepEqual(byKind('audio'), [sent[0], sent[1]]);
    assert.deepEqual(byKind('video'), [sent[2]]);
    const buffers = target.packets.map((p) => p.packet.buffer);
    assert.equal(new Set(buffers).size, 3, 'each packet owns its memory');
    for (const p of target.packets) assert.equal(p.packet.buffer.byteLength, p.packet.length);
    assert.deepEqual(first.sort(), ['audio', 'video']);
    assert.deepEqual(s.counters.forwarded, { audio: 2, video: 1 });
  } finally {
    peer.close();
    await s.close();
  }
});

test('drops and counts: before start, size, version, malformed, wrong PT, wrong source; telephone-event counted', async () => {
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio'], log });
  const peer = await Peer.bind();
  const stranger = await Peer.bind('127.0.0.2');
  const target = new Collector();
  const port = s.ports.audio!.rtp;
  try {
    await peer.send(rtp(111, 1, 1), port);
    await waitFor(() => s.counters.dropped.notNegotiated === 1, 'notNegotiated');
    s.start(answer({ audio: { port: peer.port } }), target, OFF);
    await peer.send(Buffer.alloc(11, 0x80), port); // shorter than a header
    await peer.send(rtp(111, 2, 1, 1501 - 12), port); // 1501 bytes
    const v1 = rtp(111, 3, 1);
    v1[0] = 0x40;
    await peer.send(v1, port);
    const csrc = rtp(111, 4, 1, 4);
    csrc[0] = 0x8f; // 15 CSRCs announced, 4 bytes present
    await peer.send(csrc, port);
    await peer.send(rtp(0, 5, 1), port); // PCMU was not negotiated
    await peer.send(rtp(101, 6, 1, 4), port); // telephone-event
    await stranger.send(rtp(111, 7, 1), port);
    await peer.send(rtp(111, 8, 1, 1500 - 12), port); // exactly 1500 bytes is fine
    await waitFor(() => s.counters.dropped.source === 1 && target.packets.length === 1, 'drops');
    assert.deepEqual(s.counters.dropped, {
      size: 2,
      version: 1,
      malformed: 1,
      payloadType: 1,
      source: 1,
      notNegotiated: 1,
      rtcpMalformed: 0,
      rtcpSource: 0,
    });
    assert.equal(s.counters.telephoneEventsReceived, 1);
    assert.equal(target.packets.length, 1);
    assert.equal(rtpSeq(target.packets[0]!.packet), 8);
    // RTCP: garbage and a foreign source are dropped, a valid report counted
    const rtcpPort = s.ports.audio!.rtcp;
    await peer.send(Buffer.from('81c90007deadbeef', 'hex'), rtcpPort); // RR claiming 32 bytes in 8
    await stranger.send(Buffer.from('80c9000100000001', 'hex'), rtcpPort);
    await peer.send(Buffer.from('80c9000100000001', 'hex'), rtcpPort);
    await waitFor(() => s.counters.rtcpReceived === 1 && s.counters.dropped.rtcpSource === 1, 'rtcp');
    assert.equal(s.counters.dropped.rtcpMalformed, 1);
  } finally {
    peer.close();
    stranger.close();
    await s.close();
  }
});

test('latching auto: first valid source latched, others dropped, re-latch only after 2 s of silence', async () => {
  const clock = new FakeClock();
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio'], log, clock });
  const natted = await Peer.bind();
  const other = await Peer.bind('127.0.0.2');
  const target = new Collector();
  const latched: Array<[MediaKind, string, number]> = [];
  s.on('latched', (k, a, p) => latched.push([k, a, p]));
  const port = s.ports.audio!.rtp;
  try {
    // the SDP shows a private address we can never receive from: only latching makes this call work
    s.start(answer({ address: '10.99.0.1', audio: { port: 4000 } }), target, { ...OFF, latching: 'auto' });
    await other.send(rtp(0, 1, 9), port); // wrong PT: must not latch
    await natted.send(rtp(111, 2, 9), port);
    await waitFor(() => latched.length === 1, 'latch');
    assert.deepEqual(latched[0], ['audio', '127.0.0.1', natted.port]);
    clock.advance(1500);
    await other.send(rtp(111, 3, 9), port);
    await waitFor(() => s.counters.dropped.source === 1, 'source drop');
    await natted.send(rtp(111, 4, 9), port);
    await waitFor(() => target.packets.length === 2, 'second packet');
    clock.advance(1999);
    await other.send(rtp(111, 5, 9), port);
    await waitFor(() => s.counters.dropped.source === 2, 'still latched');
    clock.advance(1);
    await other.send(rtp(111, 6, 9), port);
    await waitFor(() => latched.length === 2, 're-latch');
    assert.deepEqual(latched[1], ['audio', '127.0.0.2', other.port]);
    await natted.send(rtp(111, 7, 9), port);
    await waitFor(() => s.counters.dropped.source === 3, 'old source now dropped');
    assert.deepEqual(target.packets.map((p) => rtpSeq(p.packet)), [2, 4, 6]);
    // what we send follows the latched source, not the SDP address
    await s.sendDtmf('1', { durationMs: 40 });
    await waitFor(() => other.got.length === 4, 'DTMF to the latched source');
    assert.equal(natted.got.length, 0);
  } finally {
    natted.close();
    other.close();
    await s.close();
  }
});

test('inactivity: emitted once after the timeout without valid RTP (fake clock), re-armed by traffic', async () => {
  const clock = new FakeClock();
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio'], log, clock });
  const peer = await Peer.bind();
  let inactive = 0;
  s.on('inactive', () => inactive++);
  try {
    s.start(answer({ audio: { port: peer.port } }), new Collector(), { ...OFF, inactivityTimeoutMs: 3000 });
    clock.advance(2500);
    await peer.send(rtp(111, 1, 1), s.ports.audio!.rtp);
    await waitFor(() => s.counters.forwarded.audio === 1, 'packet');
    clock.advance(2999);
    assert.equal(inactive, 0, 'the packet reset the timer');
    await peer.send(rtp(0, 2, 1), s.ports.audio!.rtp); // invalid PT does not count as activity
    await waitFor(() => s.counters.dropped.payloadType === 1, 'drop');
    clock.advance(1000);
    assert.equal(inactive, 1);
    clock.advance(10_000);
    assert.equal(inactive, 1, 'once per silent period');
    await peer.send(rtp(111, 3, 1), s.ports.audio!.rtp);
    await waitFor(() => s.counters.forwarded.audio === 2, 'packet');
    clock.advance(4000);
    assert.equal(inactive, 2);
  } finally {
    peer.close();
    await s.close();
  }
});

test('initAlways: RTP silence to the audio RTP port, RR+SDES to both RTCP ports, nothing to video RTP; RRs every 5 s', async () => {
  const clock = new FakeClock();
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio', 'video'], log, clock });
  const [aRtp, aRtcp, vRtp, vRtcp] = await Promise.all([Peer.bind(), Peer.bind(), Peer.bind(), Peer.bind()]);
  try {
    s.start(
      answer({ audio: { port: aRtp.port, rtcpPort: aRtcp.port }, video: { port: vRtp.port, rtcpPort: vRtcp.port } }),
      new Collector(),
      { ...OFF, initAlways: true },
    );
    await waitFor(() => aRtp.got.length === 1 && aRtcp.got.length === 1 && vRtcp.got.length === 1, 'init packets');
    const silence = aRtp.got[0]!;
    assert.equal(silence.from, s.ports.audio!.rtp, 'sent from our RTP port (symmetric RTP)');
    assert.equal(rtpPayloadType(silence.msg), 111);
    assert.equal(rtpMarker(silence.msg), true);
    assert.deepEqual(silence.msg.subarray(12), Buffer.from([0xf8, 0xff, 0xfe]));
    for (const [peer, kind] of [[aRtcp, 'audio'], [vRtcp, 'video']] as const) {
      const { msg, from } = peer.got[0]!;
      assert.equal(from, s.ports[kind]!.rtcp);
      assert.equal(msg[1], 201, 'RR first');
      assert.equal(msg[msg.readUInt16BE(2) * 4 + 4 + 1], 202, 'then SDES');
      assert.ok(parseRtcpFeedback(msg));
    }
    await settle();
    assert.equal(vRtp.got.length, 0, 'no made-up H.264');
    clock.advance(5000);
    await waitFor(() => aRtcp.got.length === 2 && vRtcp.got.length === 2, 'periodic RR');
    assert.equal(aRtp.got.length, 1);
  } finally {
    for (const p of [aRtp, aRtcp, vRtp, vRtcp]) p.close();
    await s.close();
  }
});

test('initAlways with G.711: 160 bytes of codec silence; without initAlways only the periodic RR', async () => {
  const clock = new FakeClock();
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio'], log, clock });
  const s2 = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio'], log, clock });
  const [rtpPeer, rtcpPeer, quiet, quietRtcp] = await Promise.all([Peer.bind(), Peer.bind(), Peer.bind(), Peer.bind()]);
  try {
    s.start(answer({ audio: { port: rtpPeer.port, rtcpPort: rtcpPeer.port, pts: '8 0' } }), new Collector(), { ...OFF, initAlways: true });
    await waitFor(() => rtpPeer.got.length === 1, 'silence');
    const msg = rtpPeer.got[0]!.msg;
    assert.equal(rtpPayloadType(msg), 8);
    assert.deepEqual(msg.subarray(12), Buffer.alloc(160, 0xd5));
    s2.start(answer({ audio: { port: quiet.port, rtcpPort: quietRtcp.port } }), new Collector(), OFF);
    await settle();
    assert.equal(quiet.got.length + quietRtcp.got.length, 0);
    clock.advance(5000);
    await waitFor(() => quietRtcp.got.length === 1, 'RR anyway');
  } finally {
    for (const p of [rtpPeer, rtcpPeer, quiet, quietRtcp]) p.close();
    await Promise.all([s.close(), s2.close()]);
  }
});

test('requestKeyframe: RR+SDES+PLI then a PT-192 FIR to the video RTCP port, media SSRC from the RTP', async () => {
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio', 'video'], log });
  const [vRtp, vRtcp] = await Promise.all([Peer.bind(), Peer.bind()]);
  try {
    assert.equal(s.requestKeyframe(), false, 'not started');
    s.start(answer({ video: { port: vRtp.port, rtcpPort: vRtcp.port } }), new Collector(), OFF);
    assert.equal(s.requestKeyframe(), true);
    await waitFor(() => vRtcp.got.length === 1, 'first request');
    assert.equal(vRtcp.got[0]!.msg.readUInt32BE(vRtcp.got[0]!.msg.length - 4), 0, 'media SSRC 0 before any RTP');
    await vRtp.send(rtp(96, 1, 0xfda5a688), s.ports.video!.rtp);
    await waitFor(() => s.counters.forwarded.video === 1, 'video RTP');
    assert.equal(s.requestKeyframe(), true);
    await waitFor(() => vRtcp.got.length === 2, 'second request');
    const { msg, from } = vRtcp.got[1]!;
    assert.equal(from, s.ports.video!.rtcp);
    // walk the compound: RR, SDES, PSFB FMT 1 (PLI), legacy FIR (PT 192), in this order
    const parts: Array<{ pt: number; fmt: number; body: Buffer }> = [];
    for (let p = 0; p < msg.length; ) {
      const size = (msg.readUInt16BE(p + 2) + 1) * 4;
      assert.equal(msg[p]! >> 6, 2);
      parts.push({ pt: msg[p + 1]!, fmt: msg[p]! & 0x1f, body: msg.subarray(p, p + size) });
      p += size;
    }
    assert.deepEqual(parts.map((x) => x.pt), [201, 202, 206, 192]);
    assert.equal(parts[2]!.fmt, 1, 'PLI, never the RFC 5104 FIR (FMT 4)');
    assert.equal(parts[2]!.body.readUInt32BE(8), 0xfda5a688);
    assert.equal(parts[3]!.body.length, 8);
    assert.equal(parts[3]!.body.readUInt32BE(4), 0xfda5a688);
    const fb = parseRtcpFeedback(msg);
    assert.ok(fb);
    assert.equal(fb.pli, true);
    assert.equal(fb.fir, true);
    assert.equal(s.counters.keyframeRequests, 2);
    assert.equal(vRtp.got.length, 0, 'nothing to the RTP port');
  } finally {
    vRtp.close();
    vRtcp.close();
    await s.close();
  }
  assert.equal(s.requestKeyframe(), false, 'closed');
});

test('sendDtmf: RFC 4733 packets (marker, event, volume, durations, 3 end packets), queued calls, errors', async () => {
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio', 'video'], log });
  const peer = await Peer.bind();
  try {
    await assert.rejects(s.sendDtmf('1'), /no audio stream/);
    s.start(answer({ audio: { port: peer.port, pts: '0' } }), new Collector(), OFF);
    await assert.rejects(s.sendDtmf('1x'), /invalid DTMF key "x"/);
    const t0 = Date.now();
    const both = Promise.all([s.sendDtmf('5#', { durationMs: 100 }), s.sendDtmf('d', { durationMs: 60, volume: 7 })]);
    await both;
    assert.ok(Date.now() - t0 >= 300, 'paced at 20 ms');
    await waitFor(() => peer.got.length === 7 + 7 + 5, 'all packets');
    const pkts = peer.got.map(({ msg }) => ({ msg, ev: readTelephoneEvent(msg, 12)! }));
    for (const p of pkts) {
      assert.equal(rtpPayloadType(p.msg), 101);
      assert.equal(p.msg.length, 16);
    }
    const ssrc = rtpSsrc(pkts[0]!.msg);
    const seq0 = rtpSeq(pkts[0]!.msg);
    pkts.forEach((p, i) => {
      assert.equal(rtpSsrc(p.msg), ssrc);
      assert.equal(rtpSeq(p.msg), (seq0 + i) & 0xffff, 'consecutive sequence numbers');
    });
    const digits = [pkts.slice(0, 7), pkts.slice(7, 14), pkts.slice(14)];
    const expect = [
      { event: 5, volume: 10, durations: [160, 320, 480, 640, 800, 800, 800] },
      { event: 11, volume: 10, durations: [160, 320, 480, 640, 800, 800, 800] },
      { event: 15, volume: 7, durations: [160, 320, 480, 480, 480] },
    ];
    let prevEnd = -1;
    digits.forEach((d, i) => {
      const e = expect[i]!;
      assert.deepEqual(d.map((p) => p.ev.event), d.map(() => e.event));
      assert.deepEqual(d.map((p) => p.ev.volume), d.map(() => e.volume));
      assert.deepEqual(d.map((p) => p.ev.duration), e.durations);
      assert.deepEqual(d.map((p) => p.ev.end), e.durations.map((_, j) => j >= e.durations.length - 3));
      assert.deepEqual(d.map((p) => rtpMarker(p.msg)), e.durations.map((_, j) => j === 0));
      const ts = rtpTimestamp(d[0]!.msg);
      assert.ok(d.every((p) => rtpTimestamp(p.msg) === ts), 'one timestamp per event');
      if (prevEnd >= 0) assert.ok(((ts - prevEnd) | 0) > 0, 'next event starts after the previous ended');
      prevEnd = (ts + e.durations[e.durations.length - 1]!) >>> 0;
    });
    assert.equal(s.counters.dtmfDigitsSent, 3);
  } finally {
    peer.close();
    await s.close();
  }
});

test('sendDtmf rejects when the peer did not accept telephone-event, and when closed meanwhile', async () => {
  const s = await RtpSession.open({ bindAddress: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX, kinds: ['audio'], log });
  const peer = await Peer.bind();
  try {
    s.start(answer({ audio: { port: peer.port, te: false } }), new Collector(), OFF);
    await assert.rejects(s.sendDtmf('1'), /did not accept telephone-event/);
    s.updateRemote(answer({ audio: { port: peer.port } }));
    const p = s.sendDtmf('123');
    await settle(50);
    await s.close();
    await assert.rejects(p, /closed/);
    await assert.rejects(s.sendDtmf('1'), /closed/);
  } finally {
    peer.close();
  }
});
