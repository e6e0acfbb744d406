#!/usr/bin/env bash
# Unit + integration tests (node:test through tsx), next to the code as *.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find packages -name '*.test.ts' -not -path '*/node_modules/*' -not -path '*/dist/*' | sort)
exec node --import tsx --test --test-reporter=spec "${files[@]}"
