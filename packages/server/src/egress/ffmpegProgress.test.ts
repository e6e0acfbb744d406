import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FfmpegProgressParser, LineRing } from './ffmpegProgress.js';

const BLOCK = 'frame=125\nfps=25.00\nstream_0_0_q=-1.0\nbitrate= 812.4kbits/s\ntotal_size=507904\nout_time_us=5000000\nout_time_ms=5000000\nout_time=00:00:05.000000\ndup_frames=0\ndrop_frames=0\nspeed=1.01x\nprogress=continue\n';

test('a -progress block becomes one report (out_time_ms is microseconds in ffmpeg)', () => {
  const p = new FfmpegProgressParser();
  const [r] = p.push(BLOCK);
  assert.deepEqual(r, { frame: 125, outTimeMs: 5000, speed: 1.01, bitrateKbps: 812.4, totalSize: 507904, end: false });
});

test('blocks split across chunks, N/A values, the end block', () => {
  const p = new FfmpegProgressParser();
  assert.deepEqual(p.push(BLOCK.slice(0, 40)), []);
  assert.equal(p.push(BLOCK.slice(40)).length, 1);
  const [r] = p.push('frame=0\nbitrate=N/A\ntotal_size=N/A\nout_time_ms=N/A\nspeed=N/A\nprogress=end\n');
  assert.deepEqual(r, { frame: 0, outTimeMs: 0, speed: 0, bitrateKbps: 0, totalSize: 0, end: true });
});

test('only out_time_ms (older ffmpeg) still gives milliseconds', () => {
  const [r] = new FfmpegProgressParser().push('out_time_ms=2500000\nprogress=continue\n');
  assert.equal(r!.outTimeMs, 2500);
});

test('LineRing keeps the last lines, splits on \\r too, keeps an unterminated tail', () => {
  const ring = new LineRing(3);
  assert.deepEqual(ring.push('a\nb\r\nc\rd\n\npartial'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ring.lines(), ['b', 'c', 'd', 'partial']);
});
