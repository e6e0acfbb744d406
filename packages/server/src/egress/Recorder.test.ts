/**
 * Recording with the real ffmpeg (skipped when there is none) from the demo clip: the final
 * file, a killed ffmpeg, automatic recording of SIP call streams.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadClip } from '../media/clip/ClipFormat.js';
import { defaultDemoClipPath, DemoSource } from '../media/DemoSource.js';
import { StreamRegistry } from '../registry/StreamRegistry.js';
import { Logger } from '../util/Logger.js';
import { RecorderManager } from './RecorderManager.js';

const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('ffprobe', ['-version']).status === 0;
const clip = haveFfmpeg ? loadClip(defaultDemoClipPath()) : undefined;
const log = new Logger('silent');

interface Probe {
  streams: { codec_name: string; width?: number; height?: number }[];
  format: { duration: string };
}

function probe(file: string): Probe {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]).toString()) as Probe;
}

function setup(recordSipStreams = false): { registry: StreamRegistry; recorders: RecorderManager; dir: string; publish(name: string, owner?: string, video?: boolean): () => void } {
  const registry = new StreamRegistry();
  const dir = join(mkdtempSync(join(tmpdir(), 'sipcast-rec-test-')), 'records');
  const recorders = new RecorderManager(registry, { ffmpegPath: 'ffmpeg', dir, template: '{streamName}-{startTime}.mp4', recordSipStreams, log });
  const publish = (name: string, owner = 'demo', video = true): (() => void) => {
    const s = registry.create(name, owner);
    const demo = new DemoSource(clip!, { audioCodec: video ? 'opus' : 'PCMU', video });
    demo.start(s);
    return () => demo.stop();
  };
  return { registry, recorders, dir, publish };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a 3 s recording: fragmented while written, a faststart MP4 (h264 640x360 + aac) after terminate', { skip: !haveFfmpeg }, async () => {
  const { registry, recorders, dir, publish } = setup();
  const stop = publish('rec1');
  const rec = recorders.startup({ streamName: 'rec1' });
  assert.match(rec.recordName ?? '', /^rec1-\d+\.part\.mp4$/, 'the name is known at once');
  assert.throws(() => recorders.startup({ streamName: 'rec1' }), /already/);
  await sleep(3000);
  assert.equal(rec.status, 'RECORDING');
  assert.ok(existsSync(join(dir, rec.recordName!)));
  assert.equal(recorders.recordNameOf(registry.get('rec1')!), rec.recordName);
  await recorders.terminate({ streamName: 'rec1' });
  assert.equal(rec.status, 'DONE');
  assert.match(rec.recordName ?? '', /^rec1-\d+\.mp4$/);
  assert.deepEqual(readdirSync(dir), [rec.recordName], 'the .part file is gone');
  const info = probe(join(dir, rec.recordName!));
  const v = info.streams.find((s) => s.codec_name === 'h264');
  assert.equal(v?.width, 640);
  assert.equal(v?.height, 360);
  assert.ok(info.streams.some((s) => s.codec_name === 'aac'));
  const d = Number(info.format.duration);
  assert.ok(d > 2.5 && d < 4, `duration ${d}`);
  assert.ok(rec.toJSON().durationMs > 2500);
  stop();
  registry.endAll('test');
});

test('an audio-only stream (PCMU) gives an MP4 with AAC only', { skip: !haveFfmpeg }, async () => {
  const { registry, recorders, dir, publish } = setup();
  const stop = publish('voice', 'demo', false);
  const rec = recorders.startup({ streamName: 'voice' });
  await sleep(2500);
  await recorders.terminate({ mediaSessionId: rec.mediaSessionId });
  assert.equal(rec.status, 'DONE');
  const info = probe(join(dir, rec.recordName!));
  assert.deepEqual(info.streams.map((s) => s.codec_name), ['aac']);
  assert.ok(Number(info.format.duration) > 1.5, `duration ${info.format.duration}`);
  stop();
  registry.endAll('test');
});

test('ffmpeg killed with SIGKILL mid-recording: the recording ends FAILED but the file plays', { skip: !haveFfmpeg }, async () => {
  const { registry, recorders, dir, publish } = setup();
  const stop = publish('rec2');
  const rec = recorders.startup({ streamName: 'rec2' });
  await sleep(2500);
  const pid = findFfmpegPid(rec.recordName!);
  assert.ok(pid, 'ffmpeg pid');
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && !rec.ended; i++) await sleep(50);
  assert.equal(rec.status, 'FAILED');
  assert.equal(rec.toJSON().info, 'Failed by error');
  assert.match(rec.recordName ?? '', /^rec2-\d+\.mp4$/);
  const info = probe(join(dir, rec.recordName!));
  assert.ok(info.streams.some((s) => s.codec_name === 'h264'));
  assert.ok(Number(info.format.duration) > 1, `duration ${info.format.duration}`);
  assert.equal(registry.get('rec2')?.status, 'PUBLISHING', 'the stream is unaffected');
  stop();
  registry.endAll('test');
});

test('sip_record_stream: streams of SIP calls are recorded automatically until they end; others are not', { skip: !haveFfmpeg }, async () => {
  const { registry, recorders, dir, publish } = setup(true);
  const stopCall = publish('call-7', 'call:7');
  const stopDemo = publish('demo', 'demo');
  await sleep(2000);
  const list = recorders.list();
  assert.equal(list.length, 1);
  assert.equal(list[0]!.streamName, 'call-7');
  assert.equal(list[0]!.auto, true);
  stopCall();
  registry.get('call-7')!.end('Stopped by publisher stop');
  for (let i = 0; i < 100 && !list[0]!.ended; i++) await sleep(50);
  assert.equal(list[0]!.status, 'DONE');
  assert.equal(list[0]!.toJSON().info, 'Stopped by publisher stop');
  assert.ok(probe(join(dir, list[0]!.recordName!)).streams.some((s) => s.codec_name === 'h264'));
  await recorders.stop();
  stopDemo();
  registry.endAll('test');
});

/** The pid of the ffmpeg writing `name` (from ps). */
function findFfmpegPid(name: string): number {
  const out = execFileSync('ps', ['-eo', 'pid=,args=']).toString();
  const line = out.split('\n').find((l) => l.includes('ffmpeg') && l.includes(name));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}
