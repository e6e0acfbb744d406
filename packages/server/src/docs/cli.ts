import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configurationDoc, restApiDoc } from './generateDocs.js';

/** Writes (or with --check, compares) the generated docs. */
const docs = fileURLToPath(new URL('../../../../docs/', import.meta.url));
const files: Record<string, string> = { 'configuration.md': configurationDoc(), 'rest-api.md': restApiDoc() };
let stale = 0;
for (const [name, text] of Object.entries(files)) {
  const path = docs + name;
  if (process.argv.includes('--check')) {
    const current = (() => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return '';
      }
    })();
    if (current !== text) {
      stale++;
      process.stderr.write(`docs/${name} is out of date: run npx tsx packages/server/src/docs/cli.ts\n`);
    }
  } else {
    writeFileSync(path, text);
  }
}
process.exit(stale ? 1 : 0);
