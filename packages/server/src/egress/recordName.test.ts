import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RECORD_NAME, partName, renderRecordName, sanitizeRecordName, uniqueName, type RecordNameVars } from './recordName.js';

const vars: RecordNameVars = { streamName: 'call-1', startTime: 1700000000000, mediaSessionId: 'a1b2-c3', audioCodec: 'opus', videoCodec: 'H264' };

test('default template: {streamName}-{startTime}.mp4', () => {
  assert.equal(renderRecordName('{streamName}-{startTime}.mp4', vars), 'call-1-1700000000000.mp4');
});

test('every placeholder; {endTime} is empty while recording', () => {
  const t = '{streamName}_{startTime}_{endTime}_{mediaSessionId}_{audioCodec}_{videoCodec}';
  assert.equal(renderRecordName(t, vars), 'call-1_1700000000000__a1b2-c3_opus_H264.mp4');
  assert.equal(renderRecordName(t, { ...vars, endTime: 1700000010000 }), 'call-1_1700000000000_1700000010000_a1b2-c3_opus_H264.mp4');
});

test('unknown placeholders stay literally (sanitised); .mp4 is appended once', () => {
  assert.equal(renderRecordName('{foo}-{streamName}', vars), '_foo_-call-1.mp4');
  assert.equal(renderRecordName('{streamName}.MP4', vars), 'call-1.mp4');
});

test('sanitiser: only [A-Za-z0-9._-], no leading dot, no path', () => {
  assert.equal(sanitizeRecordName('a b/c\\d:e*f?g"h<i>j|k'), 'a_b_c_d_e_f_g_h_i_j_k');
  assert.equal(sanitizeRecordName('../../etc/passwd'), '_._.._etc_passwd');
  assert.equal(sanitizeRecordName('.hidden'), '_hidden');
  assert.equal(sanitizeRecordName('ünï©ødé\u0000x'), '_n___d__x');
  const evil = renderRecordName('{streamName}', { ...vars, streamName: '../../x y' });
  assert.match(evil, /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.mp4$/);
  assert.ok(!evil.includes('/'));
});

test('empty or dots-only results get a fallback name; length is capped', () => {
  assert.equal(renderRecordName('{audioCodec}', { ...vars, audioCodec: '' }), 'record_1700000000000.mp4');
  assert.equal(renderRecordName('...', vars), 'record_1700000000000.mp4');
  const long = renderRecordName('{streamName}', { ...vars, streamName: 'x'.repeat(1000) });
  assert.equal(long.length, MAX_RECORD_NAME + 4);
});

test('partName and uniqueName', () => {
  assert.equal(partName('a.mp4'), 'a.part.mp4');
  const taken = new Set(['a.mp4', 'a-1.mp4']);
  assert.equal(uniqueName('a.mp4', (n) => taken.has(n)), 'a-2.mp4');
  assert.equal(uniqueName('b.mp4', (n) => taken.has(n)), 'b.mp4');
});
