import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from './httpRange.js';

test('no header or malformed/multi-range headers: whole file', () => {
  assert.equal(parseRange(undefined, 100), undefined);
  assert.equal(parseRange('', 100), undefined);
  assert.equal(parseRange('bytes=', 100), undefined);
  assert.equal(parseRange('bytes=-', 100), undefined);
  assert.equal(parseRange('items=0-5', 100), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange('bytes=abc', 100), undefined);
  assert.equal(parseRange('bytes=50-10', 100), undefined, 'last < first is invalid: ignored');
});

test('first-last, open end, suffix', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=10-', 1000), { start: 10, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('Bytes = 5 - 5', 1000), { start: 5, end: 5 });
});

test('end beyond the file is clamped; suffix longer than the file is the whole file', () => {
  assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
});

test('unsatisfiable: start at/after the end, zero suffix, empty file, absurd numbers', () => {
  assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=1000-1001', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=-10', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=99999999999999999999-', 1000), 'unsatisfiable');
});
