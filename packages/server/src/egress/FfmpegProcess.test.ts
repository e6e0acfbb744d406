import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FfmpegProcess, type FfmpegExit } from './FfmpegProcess.js';
import { writeFakeFfmpeg } from './testing/fakeFfmpeg.js';
import { allocatePortPairs, releasePorts } from './udpPorts.js';

/** The fake reads the SDP named after -i; give it one on a free port pair. */
async function sdpArgs(): Promise<{ args: string[]; release(): void }> {
  const [port] = await allocatePortPairs(1);
  const file = join(mkdtempSync(join(tmpdir(), 'sipcast-test-')), 'in.sdp');
  writeFileSync(file, `v=0\r\nm=audio ${port} RTP/AVP 0\r\n`);
  return { args: ['-i', file], release: () => releasePorts([port!]) };
}

test('an ffmpeg that fails at once: exit event with code and the last stderr lines', async () => {
  const p = FfmpegProcess.start(writeFakeFfmpeg('fail'), []);
  const exit = await new Promise<FfmpegExit>((r) => p.on('exit', r));
  assert.equal(exit.code, 1);
  assert.equal(exit.requested, false);
  assert.match(exit.stderrTail.join('\n'), /Connection refused/);
  assert.equal(p.running, false);
  // stop() and kill() on a dead process resolve / do nothing
  assert.equal(await p.stop(), exit);
  p.kill();
});

test('a binary that does not exist: exit with spawnError, never a throw', async () => {
  const p = FfmpegProcess.start('/nonexistent/ffmpeg', ['-version']);
  const exit = await p.exited;
  assert.match(exit.spawnError ?? '', /ENOENT/);
  assert.equal(exit.code, null);
  assert.equal((await p.stop()).spawnError, exit.spawnError);
});

test('progress reports are parsed and emitted; q stops it gracefully', async () => {
  const sdp = await sdpArgs();
  const p = FfmpegProcess.start(writeFakeFfmpeg('run'), sdp.args);
  const first = await new Promise<{ frame: number; outTimeMs: number; speed: number }>((r) => p.once('progress', r));
  assert.ok(first.frame > 0);
  assert.equal(first.outTimeMs, first.frame * 40);
  assert.equal(first.speed, 1.01);
  const t0 = Date.now();
  const exit = await p.stop({ quitMs: 2000 });
  assert.equal(exit.code, 0);
  assert.equal(exit.requested, true);
  assert.ok(Date.now() - t0 < 1500, 'q was enough');
  assert.equal(p.lastProgress?.end, true);
  sdp.release();
});

test('an ffmpeg that ignores q and SIGTERM is killed with SIGKILL after the timeouts', async () => {
  const sdp = await sdpArgs();
  const p = FfmpegProcess.start(writeFakeFfmpeg('stubborn'), sdp.args);
  await new Promise((r) => p.once('progress', r));
  const t0 = Date.now();
  const exit = await p.stop({ quitMs: 200, termMs: 600 });
  const took = Date.now() - t0;
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(took >= 700 && took < 3000, `took ${took} ms`);
  sdp.release();
});

test('stderr ring is bounded', async () => {
  const p = FfmpegProcess.start(process.execPath, ['-e', 'for (let i = 0; i < 500; i++) console.error("line " + i); process.exitCode = 3'], { stderrLines: 10 });
  const exit = await p.exited;
  assert.equal(exit.code, 3);
  assert.equal(exit.stderrTail.length, 10);
  assert.equal(exit.stderrTail[9], 'line 499');
});
