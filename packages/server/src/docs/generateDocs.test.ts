import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configurationDoc, restApiDoc } from './generateDocs.js';

const docs = new URL('../../../../docs/', import.meta.url);

test('docs/configuration.md and docs/rest-api.md match the settings table and request schemas', () => {
  assert.equal(readFileSync(new URL('configuration.md', docs), 'utf8'), configurationDoc(), 'run: npx tsx packages/server/src/docs/cli.ts');
  assert.equal(readFileSync(new URL('rest-api.md', docs), 'utf8'), restApiDoc(), 'run: npx tsx packages/server/src/docs/cli.ts');
});
