import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rtpMarker, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from '../rtp/RtpHeader.js';
import { type Clip, type ClipPacket, loadClip } from './clip/ClipFormat.js';
import { DemoSource, type RtpPublishTarget, defaultDemoClipPath } from './DemoSource.js';
import type { MediaDescription, MediaKind, StreamPublisher } from './MediaTypes.js';

class FakeTarget implements RtpPublishTarget {
  attached: Array<{ publisher: StreamPublisher; media: MediaDescription }> = [];
  packets: Array<{ kind: MediaKind; packet: Buffer; at: number }> = [];
  ended: string[] = [];
  attachPublisher(publisher: StreamPublisher, media: MediaDescription): void {
    this.attached.push({ publisher, media });
  }
  pushRtp(kind: MediaKind, packet: Buffer): void {
    this.packets.push({ kind, packet, at: performance.now() });
  }
  end(info: string): void {
    this.ended.push(info);
  }
  of(kind: MediaKind): Buffer[] {
    return this.packets.filter((p) => p.kind === kind).map((p) => p.packet);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function assertSeqContinuous(packets: Buffer[], label: string): void {
  for (let i = 1; i < packets.length; i++) {
    assert.equal(rtpSeq(packets[i]!), (rtpSeq(packets[i - 1]!) + 1) & 0xffff, `${label} seq at ${i}`);
  }
}

test('real clip in real time: rates, media description, seq, markers, SSRCs', async (t) => {
  const clip = loadClip(defaultDemoClipPath());
  const src = new DemoSource(clip);
  const target = new FakeTarget();
  const t0 = performance.now();
  src.start(target);
  await sleep(1500);
  src.stop();
  const elapsed = performance.now() - t0;

  assert.equal(target.attached.length, 1);
  assert.equal(target.attached[0]!.publisher, src);
  assert.deepEqual(target.attached[0]!.media, {
    audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
    video: { kind: 'video', codec: 'H264', clockRate: 90000, profileLevelId: '42c01e' },
  });
  assert.equal(src.canProduceKeyframe, false);
  src.requestKeyframe();
  src.requestKeyframe();
  assert.equal(src.keyframeRequests, 2);
  assert.deepEqual(target.ended, [], 'stop() leaves ending the stream to the owner');

  const video = target.of('video');
  const audio = target.of('audio');
  // what the clip schedules up to now, give or take one 5 ms tick
  const due = (track: number, ms: number): number =>
    clip.packets.filter((p) => p.track === track && (p.timestamp * 1000) / clip.tracks[track]!.clockRate <= ms).length;
  assert.ok(audio.length >= due(1, elapsed - 30) && audio.length <= due(1, elapsed + 5), `audio ${audio.length} in ${elapsed} ms`);
  assert.ok(video.length >= due(0, elapsed - 45) && video.length <= due(0, elapsed + 5), `video ${video.length} in ${elapsed} ms`);
  const secs = elapsed / 1000;
  t.diagnostic(`demo: ${(video.length / secs).toFixed(1)} video pps, ${(audio.length / secs).toFixed(1)} audio pps over ${secs.toFixed(2)} s`);

  assertSeqContinuous(video, 'video');
  assertSeqContinuous(audio, 'audio');
  assert.ok(video.every((p) => rtpPayloadType(p) === 96 && rtpSsrc(p) === src.ssrcOf('video')));
  assert.ok(audio.every((p) => rtpPayloadType(p) === 111 && rtpSsrc(p) === src.ssrcOf('audio')));
  assert.notEqual(src.ssrcOf('video'), src.ssrcOf('audio'));
  // marker exactly on the last packet of each frame (all but the possibly unfinished last frame)
  for (let i = 0; i + 1 < video.length; i++) {
    assert.equal(rtpMarker(video[i]!), rtpTimestamp(video[i + 1]!) !== rtpTimestamp(video[i]!), `marker at ${i}`);
  }
  assert.ok(!audio.some(rtpMarker));
  // the payload is the clip's, behind a plain 12-byte header; every packet owns its memory
  const firstVideo = clip.packets.find((p) => p.track === 0)!;
  assert.deepEqual(video[0]!.subarray(12), firstVideo.payload);
  assert.equal(video[0]![0], 0x80);
  assert.notEqual(video[0]!.buffer, video[1]!.buffer);
  assert.deepEqual(src.packetsSent, { audio: audio.length, video: video.length });
  // send times follow the clip: the 40 ms frame slots
  const spread = (target.packets.at(-1)!.at - target.packets[0]!.at) / 1000;
  assert.ok(spread > 1.3 && spread < 1.6, `spread ${spread}`);
});

/** 100 ms loop: 2.5 frames would not loop cleanly, so video at 20 ms steps, 2 packets each. */
function tinyClip(): Clip {
  const packets: ClipPacket[] = [];
  for (let k = 0; k < 5; k++) {
    packets.push({ track: 0, marker: false, keyframe: k === 0, timestamp: k * 1800, payload: Buffer.from([0x7c, 0x85, k]) });
    packets.push({ track: 0, marker: true, keyframe: false, timestamp: k * 1800, payload: Buffer.from([0x7c, 0x45, k]) });
    packets.push({ track: 1, marker: false, keyframe: false, timestamp: k * 160, payload: Buffer.alloc(160, k) });
    packets.push({ track: 2, marker: false, keyframe: false, timestamp: k * 960, payload: Buffer.from([0xfc, k]) });
  }
  return {
    durationMs: 100,
    tracks: [
      { kind: 'video', codec: 'H264', clockRate: 90000, channels: 0 },
      { kind: 'audio', codec: 'PCMU', clockRate: 8000, channels: 1 },
      { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
    ],
    packets,
  };
}

test('tiny clip loops with continuous seq and timestamps', async () => {
  const src = new DemoSource(tinyClip(), { audioCodec: 'PCMU' });
  const target = new FakeTarget();
  src.start(target);
  assert.throws(() => src.start(target), /already started/);
  await sleep(450);
  src.stop();
  const video = target.of('video');
  const audio = target.of('audio');
  assert.ok(audio.length >= 20, `four loops of 5 audio packets: ${audio.length}`);
  assert.ok(audio.every((p) => rtpPayloadType(p) === 0 && p.length === 172));
  assertSeqContinuous(video, 'video');
  assertSeqContinuous(audio, 'audio');
  for (let i = 1; i < audio.length; i++) {
    assert.equal((rtpTimestamp(audio[i]!) - rtpTimestamp(audio[i - 1]!)) >>> 0, 160, `audio ts step at ${i}`);
  }
  const frames = video.filter(rtpMarker).map(rtpTimestamp);
  for (let i = 1; i < frames.length; i++) {
    assert.equal((frames[i]! - frames[i - 1]!) >>> 0, 1800, `video ts step at ${i}`);
  }
  // payload bytes cycle 0..4 across loop boundaries
  assert.deepEqual(
    audio.slice(0, 12).map((p) => p[12]),
    [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1],
  );

  // restart resumes the same RTP space; the stream is not re-attached
  const before = audio.length;
  src.start(target);
  await sleep(60);
  src.stop();
  const all = target.of('audio');
  assert.ok(all.length > before);
  assertSeqContinuous(all, 'audio after restart');
  assert.equal(target.attached.length, 1);
});

test('audio-only PCMA and missing tracks', () => {
  const clip = loadClip(defaultDemoClipPath());
  const src = new DemoSource(clip, { audioCodec: 'PCMA', video: false });
  assert.deepEqual(src.media, { audio: { kind: 'audio', codec: 'PCMA', clockRate: 8000, channels: 1 } });
  assert.equal(src.ssrcOf('video'), undefined);
  assert.throws(() => new DemoSource(tinyClip(), { audioCodec: 'PCMA' }), /no PCMA track/);
  const audioOnly: Clip = { ...tinyClip(), tracks: tinyClip().tracks.slice(1, 2), packets: [] };
  assert.throws(() => new DemoSource(audioOnly, { audioCodec: 'PCMU' }), /no video track/);
});
