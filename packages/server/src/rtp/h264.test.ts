import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { H264ParseError, NAL_TYPE, findSps, h264KeyInfo, parseSps } from './h264.js';

const fixture = (name: string): Buffer =>
  Buffer.from(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8').trim(), 'hex');

/** Deterministic PRNG so a failing fuzz case can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// SPSs extracted from ffmpeg/libx264 Annex B output (see fixtures/); expectations cross-checked
// with ffmpeg's trace_headers bitstream filter.
const cases = [
  { file: 'sps-base640x360.hex', pli: '42c01e', w: 640, h: 360, chroma: 1, frameMbsOnly: true },
  { file: 'sps-main1280x720.hex', pli: '4d401f', w: 1280, h: 720, chroma: 1, frameMbsOnly: true },
  { file: 'sps-high1920x1080.hex', pli: '640028', w: 1920, h: 1080, chroma: 1, frameMbsOnly: true },
  { file: 'sps-high_interlaced1920x1080.hex', pli: '640028', w: 1920, h: 1080, chroma: 1, frameMbsOnly: false },
  { file: 'sps-high444_1918x1078.hex', pli: 'f40028', w: 1918, h: 1078, chroma: 3, frameMbsOnly: true },
  { file: 'sps-high422_720x480.hex', pli: '7a001e', w: 720, h: 480, chroma: 2, frameMbsOnly: true },
  { file: 'sps-high350x202.hex', pli: '64000d', w: 350, h: 202, chroma: 1, frameMbsOnly: true },
];

for (const c of cases) {
  test(`parseSps ${c.file}`, () => {
    const sps = parseSps(fixture(c.file));
    assert.equal(sps.profileLevelId, c.pli);
    assert.equal(sps.width, c.w);
    assert.equal(sps.height, c.h);
    assert.equal(sps.chromaFormatIdc, c.chroma);
    assert.equal(sps.frameMbsOnly, c.frameMbsOnly);
    assert.equal(sps.profileIdc, parseInt(c.pli.slice(0, 2), 16));
    assert.equal(sps.constraintFlags, parseInt(c.pli.slice(2, 4), 16));
    assert.equal(sps.levelIdc, parseInt(c.pli.slice(4, 6), 16));
  });
}

/** Minimal SPS encoder (test only) to reach syntax x264 never emits: scaling lists, POC type 1. */
class BitWriter {
  private readonly bits: number[] = [];
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(len, 0).u(len + 1, v + 1);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** rbsp_trailing_bits, then emulation prevention, then the NAL header. */
  nal(header: number): Buffer {
    this.bits.push(1);
    while (this.bits.length % 8) this.bits.push(0);
    const out = [header];
    let zeros = 0;
    for (let i = 0; i < this.bits.length; i += 8) {
      let b = 0;
      for (let j = 0; j < 8; j++) b = b * 2 + this.bits[i + j]!;
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return Buffer.from(out);
  }
}

test('parseSps: high profile with scaling lists, POC type 1 and emulation prevention', () => {
  const w = new BitWriter().u(8, 100).u(8, 0).u(8, 0x1f).ue(0);
  w.ue(1).ue(0).ue(0).u(1, 0); // 4:2:0, 8 bit
  w.u(1, 1); // seq_scaling_matrix_present_flag
  for (let i = 0; i < 8; i++) {
    w.u(1, 1);
    const size = i < 6 ? 16 : 64;
    // first list ends early with nextScale 0 (delta -8), the others are explicit deltas
    if (i === 0) w.se(-8);
    else for (let j = 0; j < size; j++) w.se(j % 2 ? 3 : -3);
  }
  w.ue(0).ue(1); // log2_max_frame_num_minus4, poc type 1
  w.u(1, 0).se(-2).se(5).ue(3).se(1).se(-1).se(0);
  w.ue(1).u(1, 0).ue(79).ue(44).u(1, 1).u(1, 1).u(1, 0); // 1280x720, no cropping
  w.u(1, 0); // no VUI
  const nal = w.nal(0x67);
  const sps = parseSps(nal);
  assert.equal(sps.width, 1280);
  assert.equal(sps.height, 720);
  assert.equal(sps.profileLevelId, '64001f');
});

test('parseSps: emulation prevention bytes inside parsed fields are removed', () => {
  // Large offset_for_ref_frame values are long runs of zero bits, so the encoder must escape
  // them; width and height come after, so they only parse right if the escapes are removed.
  const w = new BitWriter().u(8, 66).u(8, 0xc0).u(8, 0x1e).ue(0).ue(0).ue(1);
  w.u(1, 0).se(0).se(0).ue(4);
  for (let i = 0; i < 4; i++) w.se(32768); // ue(65535): 16 zeros, 1, 16 zeros
  w.ue(1).u(1, 0).ue(39).ue(29).u(1, 1).u(1, 1).u(1, 0).u(1, 0);
  const nal = w.nal(0x67);
  assert.ok(nal.includes(Buffer.from([0, 0, 3])), 'fixture must contain an emulation prevention byte');
  const sps = parseSps(nal);
  assert.equal(sps.width, 640);
  assert.equal(sps.height, 480);
  assert.equal(sps.profileLevelId, '42c01e');
});

test('parseSps: rejects non-SPS and broken input with H264ParseError', () => {
  const good = fixture('sps-base640x360.hex');
  const bad: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0x67]),
    Buffer.from([0x68, 0x42, 0xc0, 0x1e, 0xd9]), // PPS header
    Buffer.from([0xe7, 0x42, 0xc0, 0x1e, 0xd9]), // forbidden bit set
    good.subarray(0, 6),
    Buffer.concat([good.subarray(0, 4), Buffer.alloc(40)]), // all-zero Exp-Golomb
    Buffer.alloc(5000, 0x67),
  ];
  for (const b of bad) assert.throws(() => parseSps(b), H264ParseError, b.toString('hex').slice(0, 40));
});

test('parseSps: fuzz (random and mutated SPSs) only ever throws H264ParseError', () => {
  const rnd = prng(42);
  const seeds = cases.map((c) => fixture(c.file));
  let parsed = 0;
  const started = Date.now();
  for (let i = 0; i < 30000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.alloc(Math.floor(rnd() * 64));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length > 0 && i % 4 === 0) b[0] = 0x67;
    } else {
      const src = seeds[i % seeds.length]!;
      b = Buffer.from(src.subarray(0, 1 + Math.floor(rnd() * src.length)));
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips && b.length > 1; k++) {
        const pos = 1 + Math.floor(rnd() * (b.length - 1));
        b[pos] = b[pos]! ^ (1 << Math.floor(rnd() * 8));
      }
    }
    try {
      const sps = parseSps(b);
      parsed++;
      assert.ok(sps.width > 0 && sps.width <= 8192 && sps.height > 0 && sps.height <= 16384);
      assert.match(sps.profileLevelId, /^[0-9a-f]{6}$/);
    } catch (err) {
      if (!(err instanceof H264ParseError)) throw err;
    }
  }
  assert.ok(parsed > 0);
  assert.ok(Date.now() - started < 10000, 'fuzz loop took too long');
});

const sps = fixture('sps-base640x360.hex');
const pps = Buffer.from('68ce3c80', 'hex');
const stapA = (...nals: Buffer[]): Buffer =>
  Buffer.concat([
    Buffer.from([NAL_TYPE.STAP_A | 0x60]),
    ...nals.flatMap((n) => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(n.length);
      return [len, n];
    }),
  ]);
const withHeader = (payload: Buffer): Buffer => Buffer.concat([Buffer.alloc(12, 0x80), payload]);

test('h264KeyInfo: single NAL, STAP-A, FU-A', () => {
  const idr = Buffer.from([0x65, 0x88, 0x84, 0x00]);
  const slice = Buffer.from([0x41, 0x9a, 0x00]);
  const check = (payload: Buffer, want: number, label: string): void => {
    const pkt = withHeader(payload);
    assert.equal(h264KeyInfo(pkt, 12, pkt.length), want, label);
  };
  check(sps, 1, 'single SPS');
  check(pps, 0, 'single PPS');
  check(idr, 2, 'single IDR');
  check(slice, 0, 'non-IDR slice');
  check(stapA(sps, pps), 1, 'STAP-A SPS+PPS');
  check(stapA(sps, pps, idr), 1, 'STAP-A SPS+PPS+IDR');
  check(stapA(pps, idr), 2, 'STAP-A PPS+IDR');
  check(stapA(pps), 0, 'STAP-A PPS');
  check(Buffer.from([0x7c, 0x85, 0x88]), 2, 'FU-A start IDR');
  check(Buffer.from([0x7c, 0x05, 0x88]), 0, 'FU-A middle IDR');
  check(Buffer.from([0x7c, 0x45, 0x88]), 0, 'FU-A end IDR');
  check(Buffer.from([0x5c, 0x81, 0x88]), 0, 'FU-A start non-IDR');
  check(Buffer.from([0x7c]), 0, 'FU-A truncated');
  // truncated STAP-A: a length that runs past the end must not be followed
  const trunc = stapA(pps, sps).subarray(0, 1 + 2 + pps.length + 2 + 3);
  check(trunc, 0, 'STAP-A with truncated SPS');
});

test('h264KeyInfo / findSps: hostile offsets and garbage never throw', () => {
  const rnd = prng(7);
  const pkt = withHeader(stapA(pps, sps));
  assert.equal(h264KeyInfo(pkt, -1, pkt.length), 0);
  assert.equal(h264KeyInfo(pkt, pkt.length, pkt.length), 0);
  assert.equal(h264KeyInfo(pkt, 12, pkt.length + 100), 1);
  assert.equal(h264KeyInfo(pkt, Number.NaN, pkt.length), 0);
  assert.equal(findSps(pkt, 99, 200), undefined);
  for (let i = 0; i < 20000; i++) {
    const b = Buffer.alloc(Math.floor(rnd() * 40));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    const off = Math.floor(rnd() * (b.length + 2)) - 1;
    const end = Math.floor(rnd() * (b.length + 4));
    const k = h264KeyInfo(b, off, end);
    assert.ok(k === 0 || k === 1 || k === 2);
    const found = findSps(b, off, end);
    if (found) assert.equal(found[0]! & 0x1f, NAL_TYPE.SPS);
  }
});

test('findSps: single NAL and inside STAP-A', () => {
  const single = withHeader(sps);
  assert.deepEqual(findSps(single, 12, single.length), sps);
  const agg = withHeader(stapA(pps, sps));
  const found = findSps(agg, 12, agg.length);
  assert.deepEqual(found, sps);
  assert.equal(parseSps(found!).width, 640);
  const noSps = withHeader(stapA(pps));
  assert.equal(findSps(noSps, 12, noSps.length), undefined);
});
