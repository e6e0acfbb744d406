import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { MediaDescription, MediaKind } from '../media/MediaTypes.js';
import { rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from '../rtp/RtpHeader.js';
import type { MediaSink, StreamEnd } from './MediaSink.js';
import { StreamNameInUseError, StreamRegistry } from './StreamRegistry.js';

const SPS_640 = Buffer.from(readFileSync(new URL('../rtp/fixtures/sps-base640x360.hex', import.meta.url), 'utf8').replace(/\s+/g, ''), 'hex');
const MEDIA: MediaDescription = {
  audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
  video: { kind: 'video', codec: 'H264', clockRate: 90000 },
};

interface Seen {
  kind: MediaKind;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  buf: Buffer;
}

class FakeSink implements MediaSink {
  readonly seen: Seen[] = [];
  readonly rtcp: Buffer[] = [];
  resized: [number, number] | undefined;
  ended: StreamEnd | undefined;
  constructor(
    readonly id: string,
    readonly payloadTypes: Partial<Record<MediaKind, number>>,
  ) {}
  sendRtp(kind: MediaKind, p: Buffer): void {
    this.seen.push({ kind, pt: rtpPayloadType(p), seq: rtpSeq(p), ts: rtpTimestamp(p), ssrc: rtpSsrc(p), buf: p });
  }
  sendRtcp(_kind: MediaKind, p: Buffer): void {
    this.rtcp.push(p);
  }
  onResize(w: number, h: number): void {
    this.resized = [w, h];
  }
  onStreamEnd(end: StreamEnd): void {
    this.ended = end;
  }
}

function rtp(pt: number, seq: number, ts: number, payload: Buffer, ssrc = 0x1234, marker = false): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, { payloadType: pt, marker, seq, timestamp: ts, ssrc });
  payload.copy(buf, 12);
  return buf;
}
const spsPacket = (seq: number, ts: number): Buffer => rtp(96, seq, ts, SPS_640);
const pFrame = (seq: number, ts: number): Buffer => rtp(96, seq, ts, Buffer.from([0x41, 0x9a, 1, 2, 3]), 0x1234, true);
const opus = (seq: number, ts: number): Buffer => rtp(111, seq, ts, Buffer.from([0xfc, 1, 2]));

function publisher(canProduceKeyframe: boolean): { canProduceKeyframe: boolean; requests: number; requestKeyframe(): void } {
  return {
    canProduceKeyframe,
    requests: 0,
    requestKeyframe() {
      this.requests++;
    },
  };
}

test('one buffer reaches every sink, payload type patched per group, SSRC rewritten once', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  s.attachPublisher(publisher(true), MEDIA);
  const a = new FakeSink('a', { audio: 111, video: 108 });
  const b = new FakeSink('b', { audio: 111, video: 102 });
  s.addSink(a);
  s.addSink(b);
  s.pushRtp('audio', opus(10, 960));
  assert.equal(a.seen.length, 1);
  assert.equal(b.seen.length, 1);
  assert.equal(a.seen[0]!.buf, b.seen[0]!.buf, 'no per-sink copy');
  assert.equal(a.seen[0]!.ssrc, s.ssrcOf('audio'));
  // Video waits for a keyframe; PT per group.
  s.pushRtp('video', pFrame(1, 3000));
  assert.equal(a.seen.length, 1);
  s.pushRtp('video', spsPacket(2, 6000));
  s.pushRtp('video', pFrame(3, 6000));
  const av = a.seen.filter((x) => x.kind === 'video');
  const bv = b.seen.filter((x) => x.kind === 'video');
  assert.deepEqual(av.map((x) => x.pt), [108, 108]);
  assert.deepEqual(bv.map((x) => x.pt), [102, 102]);
  assert.deepEqual(av.map((x) => x.seq), [2, 3]);
  assert.deepEqual(a.resized, [640, 360]);
});

test('a new viewer asks a keyframe-capable source for a keyframe, merged across viewers', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  const pub = publisher(true);
  s.attachPublisher(pub, MEDIA);
  s.addSink(new FakeSink('a', { video: 96 }));
  s.addSink(new FakeSink('b', { video: 96 }));
  s.requestKeyframe();
  assert.equal(pub.requests, 1);
  s.end('done');
});

test('a source without on-demand keyframes: a late viewer gets the cached group first, squeezed in time', () => {
  const reg = new StreamRegistry();
  const s = reg.create('clip', 'test');
  const pub = publisher(false);
  s.attachPublisher(pub, MEDIA);
  s.pushRtp('video', spsPacket(100, 90000));
  for (let i = 1; i <= 5; i++) s.pushRtp('video', pFrame(100 + i, 90000 + i * 3600));
  const late = new FakeSink('late', { video: 102 });
  s.addSink(late);
  assert.equal(pub.requests, 0);
  assert.deepEqual(late.seen.map((x) => x.seq), [100, 101, 102, 103, 104, 105]);
  const ts = late.seen.map((x) => x.ts);
  assert.equal(ts[5], 90000 + 5 * 3600, 'newest frame keeps its timestamp');
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!, 'timestamps increase');
  assert.ok(ts[5]! - ts[0]! < 1000, 'cached frames are squeezed into a few ms');
  assert.ok(late.seen.every((x) => x.pt === 102));
  s.pushRtp('video', pFrame(106, 90000 + 6 * 3600));
  assert.equal(late.seen.at(-1)!.seq, 106);
  assert.equal(late.seen.at(-1)!.ts, 90000 + 6 * 3600);
});

test('a source restart (new SSRC, new numbering) stays continuous for viewers', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  s.attachPublisher(publisher(true), MEDIA);
  const a = new FakeSink('a', { audio: 111 });
  s.addSink(a);
  s.pushRtp('audio', opus(500, 10000));
  s.pushRtp('audio', opus(501, 10960));
  s.pushRtp('audio', rtp(111, 40000, 777777, Buffer.from([1]), 0x9999));
  const seqs = a.seen.map((x) => x.seq);
  assert.deepEqual(seqs, [500, 501, 502]);
  assert.ok(a.seen[2]!.ts > a.seen[1]!.ts);
  assert.equal(new Set(a.seen.map((x) => x.ssrc)).size, 1);
});

test('malformed packets and packets of a missing track are dropped and counted', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  s.attachPublisher(publisher(true), { video: MEDIA.video! });
  const a = new FakeSink('a', { audio: 111, video: 96 });
  s.addSink(a);
  s.pushRtp('video', Buffer.from([1, 2, 3]));
  s.pushRtp('video', Buffer.alloc(2000, 0x80));
  s.pushRtp('audio', opus(1, 1));
  assert.equal(s.counters.droppedMalformed, 2);
  assert.equal(s.counters.droppedNoTrack, 1);
  assert.equal(a.seen.length, 0);
});

test('a sink that throws does not stop the others', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  s.attachPublisher(publisher(true), MEDIA);
  const bad = new FakeSink('bad', { audio: 111 });
  bad.sendRtp = () => {
    throw new Error('boom');
  };
  const good = new FakeSink('good', { audio: 111 });
  s.addSink(bad);
  s.addSink(good);
  s.pushRtp('audio', opus(1, 960));
  assert.equal(good.seen.length, 1);
  assert.equal(s.counters.sinkErrors, 1);
});

test('ending a stream tells every sink and frees the name; names are unique while live', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  assert.throws(() => reg.create('cam', 'other'), StreamNameInUseError);
  s.attachPublisher(publisher(true), MEDIA);
  const a = new FakeSink('a', { audio: 111 });
  s.addSink(a);
  s.end('Stopped by publisher stop');
  assert.deepEqual(a.ended, { info: 'Stopped by publisher stop', failed: false });
  assert.equal(reg.get('cam'), undefined);
  assert.throws(() => s.addSink(new FakeSink('b', {})));
  reg.create('cam', 'again');
});

test('a keyframe-capable source: a viewer arriving right after a keyframe gets the fresh group replayed at once', () => {
  const reg = new StreamRegistry();
  const s = reg.create('cam', 'test');
  const pub = publisher(true);
  s.attachPublisher(pub, MEDIA);
  s.pushRtp('video', spsPacket(10, 9000));
  s.pushRtp('video', pFrame(11, 12600));
  const v = new FakeSink('v', { video: 96 });
  s.addSink(v);
  assert.deepEqual(v.seen.map((x) => x.seq), [10, 11]);
  assert.equal(pub.requests, 0, 'no extra keyframe needed');
  s.end('done');
});

test('a large cached group is replayed in chunks; live video arriving meanwhile follows it in order', async () => {
  const reg = new StreamRegistry();
  const s = reg.create('clip', 'test');
  s.attachPublisher(publisher(false), MEDIA);
  s.pushRtp('video', spsPacket(0, 0));
  for (let i = 1; i < 200; i++) s.pushRtp('video', pFrame(i, i * 3600));
  const late = new FakeSink('late', { video: 102 });
  s.addSink(late);
  assert.equal(late.seen.length, 64, 'first chunk at once');
  s.pushRtp('video', pFrame(200, 200 * 3600));
  for (let i = 0; i < 10 && late.seen.length < 201; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(late.seen.map((x) => x.seq), [...Array(201).keys()]);
  s.pushRtp('video', pFrame(201, 201 * 3600));
  assert.equal(late.seen.at(-1)!.seq, 201, 'joined the live group after the replay');
  assert.ok(late.seen.every((x) => x.pt === 102));
  s.end('done');
});
