import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clip, ClipPacket } from './ClipFormat.js';
import { ClipPacer } from './ClipPacer.js';

/** 200 ms loop, 20 packets: video frames every 40 ms (2 packets each), opus every 20 ms. */
function tinyClip(): Clip {
  const packets: ClipPacket[] = [];
  for (let ms = 0; ms < 200; ms += 20) {
    if (ms % 40 === 0) {
      const ts = ms * 90;
      packets.push({ track: 0, marker: false, keyframe: ms === 0, timestamp: ts, payload: Buffer.from([0x7c, 0x85]) });
      packets.push({ track: 0, marker: true, keyframe: false, timestamp: ts, payload: Buffer.from([0x7c, 0x45]) });
    }
    packets.push({ track: 1, marker: false, keyframe: false, timestamp: ms * 48, payload: Buffer.from([0xfc, ms]) });
  }
  return {
    durationMs: 200,
    tracks: [
      { kind: 'video', codec: 'H264', clockRate: 90000, channels: 0 },
      { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 },
    ],
    packets,
  };
}

interface Emitted {
  track: number;
  ts: number;
}

function harness(options: { tracks?: number[] } = {}): { pacer: ClipPacer; out: Emitted[] } {
  const out: Emitted[] = [];
  const pacer = new ClipPacer(tinyClip(), (track, rec, off) => out.push({ track, ts: (rec.timestamp + off) % 2 ** 32 }), {
    ...options,
    now: () => 0,
  });
  return { pacer, out };
}

test('emits each packet at its time, then loops with continuous timestamps', () => {
  const { pacer, out } = harness();
  pacer.anchor(1000);
  assert.equal(pacer.pump(1000), 3, 'video frame 0 (2 packets) and opus 0');
  assert.equal(pacer.pump(1019.9), 0);
  assert.equal(pacer.pump(1020), 1, 'opus at 20 ms');
  pacer.pump(1000 + 3 * 200 - 0.1); // loops 0..2 done, loop 3 not yet due
  assert.equal(pacer.loops, 3);
  assert.equal(out.length, 3 * 20);
  assert.equal(pacer.pump(1600), 3);
  const video = out.filter((e) => e.track === 0).map((e) => e.ts);
  const audio = out.filter((e) => e.track === 1).map((e) => e.ts);
  for (let i = 2; i < video.length; i += 2) assert.equal(video[i]! - video[i - 2]!, 3600, `video step at ${i}`);
  for (let i = 1; i < audio.length; i++) assert.equal(audio[i]! - audio[i - 1]!, 960, `audio step at ${i}`);
  assert.equal(pacer.stalls, 0);
});

test('a short stall catches up; a stall over 1 s skips ahead without a burst', () => {
  const { pacer, out } = harness();
  pacer.anchor(0);
  pacer.pump(0);
  // two full loops (20 packets each) plus 400..500 ms (12), minus the 3 already sent at 0
  assert.equal(pacer.pump(500), 20 + 20 + 12 - 3, 'catch-up burst after 0.5 s is the overdue packets');
  const before = out.length;
  const lastAudio = out.filter((e) => e.track === 1).at(-1)!.ts;
  // next due at 520 ms; wake up 3 s late
  const emitted = pacer.pump(3520);
  assert.equal(pacer.stalls, 1);
  assert.equal(emitted, 3, 'no burst: only the 520 ms packets (video frame + opus), now due at the new anchor');
  const firstAfter = out.slice(before).find((e) => e.track === 1)!;
  assert.equal(firstAfter.ts - lastAudio, 960 + 3000 * 48, 'timestamps jump by the stall, in the track clock');
  // and pacing continues normally from there
  assert.equal(pacer.pump(3540), 1);
});

test('track selection, empty selection and throwing handlers', () => {
  const { pacer, out } = harness({ tracks: [1] });
  pacer.anchor(0);
  pacer.pump(199);
  assert.equal(out.length, 10);
  assert.ok(out.every((e) => e.track === 1));

  const none = harness({ tracks: [] });
  none.pacer.anchor(0);
  assert.equal(none.pacer.pump(10_000), 0);

  const errors: unknown[] = [];
  let calls = 0;
  const throwing = new ClipPacer(
    tinyClip(),
    () => {
      calls++;
      throw new Error('sink gone');
    },
    { onError: (e) => errors.push(e) },
  );
  throwing.anchor(0);
  assert.equal(throwing.pump(100), calls);
  assert.equal(throwing.errors, calls);
  assert.equal(errors.length, calls);
});

test('real timer: start/stop, restart continues the sequence', async () => {
  const out: Emitted[] = [];
  const pacer = new ClipPacer(tinyClip(), (track, rec, off) => out.push({ track, ts: rec.timestamp + off }), { tickMs: 5 });
  pacer.start();
  assert.ok(pacer.running);
  await new Promise((r) => setTimeout(r, 250));
  pacer.stop();
  assert.ok(!pacer.running);
  const n = out.filter((e) => e.track === 1).length;
  assert.ok(n >= 11 && n <= 15, `~250 ms of 20 ms audio: ${n}`);
  const stopped = out.length;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(out.length, stopped, 'nothing after stop');
  pacer.start();
  pacer.stop();
  const audio = out.filter((e) => e.track === 1).map((e) => e.ts);
  for (let i = 1; i < audio.length; i++) assert.ok(audio[i]! > audio[i - 1]!, 'timestamps keep increasing after restart');
});

test('seekToLatestKeyframe replays from the last keyframe, due now, with increasing timestamps', () => {
  const { pacer, out } = harness();
  pacer.anchor(0);
  pacer.pump(130); // frames at 0, 40, 80, 120 ms sent
  const lastVideoTs = Math.max(...out.filter((e) => e.track === 0).map((e) => e.ts));
  const lastAudioTs = Math.max(...out.filter((e) => e.track === 1).map((e) => e.ts));
  const before = out.length;
  assert.equal(pacer.seekToLatestKeyframe(130), true);
  pacer.pump(130);
  const replay = out.slice(before);
  assert.ok(replay.length > 0, 'the keyframe is due at once');
  assert.equal(replay[0]!.track, 0);
  assert.ok(replay[0]!.ts > lastVideoTs, `video ts ${replay[0]!.ts} > ${lastVideoTs}`);
  const audio = replay.filter((e) => e.track === 1);
  assert.ok(audio.every((e) => e.ts > lastAudioTs), 'audio timestamps keep increasing too');
});
