/**
 * A stand-in for ffmpeg in tests: a Node script that behaves like ffmpeg reading RTP from an SDP
 * file (it binds the SDP's ports), in one of these modes:
 *
 * - `fail`: prints an RTMP "Connection refused" line to stderr and exits 1 at once;
 * - `run`: binds the ports, reports progress on stdout every 100 ms, counts the packets it gets,
 *   exits 0 on `q` (stdin), on RTCP BYE on every track, or on the first SIGTERM;
 * - `run-then-fail`: as `run`, then after `failMs` prints
 *   "Broken pipe" and exits 1 (an RTMP server that went away);
 * - `stubborn`: binds, ignores `q` and SIGTERM (only SIGKILL ends it).
 *
 * On exit it prints `fake-ffmpeg packets=<n> byes=<n>` to stderr.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = String.raw`#!/usr/bin/env node
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
const mode = '@MODE@';
const args = process.argv.slice(2);
let packets = 0, byes = 0, frame = 0;
const finish = (code, line) => {
  if (line) process.stderr.write(line + '\n');
  process.stderr.write('fake-ffmpeg packets=' + packets + ' byes=' + byes + '\n');
  process.stdout.write('frame=' + frame + '\nout_time_us=' + frame * 40000 + '\nprogress=end\n', () => process.exit(code));
};
if (mode === 'fail') finish(1, '[tcp @ 0x1] Connection to tcp://127.0.0.1:1 failed: Connection refused');
else {
  const sdp = readFileSync(args[args.indexOf('-i') + 1], 'utf8');
  const ports = [...sdp.matchAll(/^m=\w+ (\d+) /gm)].map((m) => Number(m[1]));
  for (const p of ports) {
    for (const port of [p, p + 1]) {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => {
        if (m[1] === 203) { if (++byes >= ports.length && mode !== 'stubborn') finish(0); }
        else if (m[1] < 192 || m[1] > 223) packets++;
      });
      s.bind(port, '127.0.0.1');
    }
  }
  setInterval(() => {
    frame += 2;
    process.stdout.write('frame=' + frame + '\nfps=25.0\nbitrate= 812.3kbits/s\ntotal_size=' + frame * 1000 + '\nout_time_us=' + frame * 40000 + '\nout_time_ms=' + frame * 40000 + '\nspeed=1.01x\nprogress=continue\n');
  }, 100);
  process.stdin.on('data', (d) => { if (mode !== 'stubborn' && d.includes('q')) finish(0); });
  process.on('SIGTERM', () => { if (mode !== 'stubborn') finish(255, 'Exiting normally, received signal 15.'); });
  if (mode === 'run-then-fail') setTimeout(() => finish(1, 'av_interleaved_write_frame(): Broken pipe'), @FAIL_MS@);
}
`;

export type FakeFfmpegMode = 'fail' | 'run' | 'run-then-fail' | 'stubborn';

/** Writes a fake ffmpeg into a fresh temporary directory and returns its path (executable). */
export function writeFakeFfmpeg(mode: FakeFfmpegMode, failMs = 300): string {
  const dir = mkdtempSync(join(tmpdir(), 'sipcast-fake-ffmpeg-'));
  const path = join(dir, 'ffmpeg.mjs');
  writeFileSync(path, SCRIPT.replace('@MODE@', mode).replace('@FAIL_MS@', String(failMs)));
  chmodSync(path, 0o755);
  return path;
}
