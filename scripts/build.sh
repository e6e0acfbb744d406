#!/usr/bin/env bash
# Builds the SDK bundles (rollup) and the server (tsc) when their sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."
newer() { [[ ! -e "$1" ]] || [[ -n "$(find "${@:2}" -newer "$1" -type f -print -quit 2>/dev/null)" ]]; }
if newer packages/sdk/dist/flashphoner.umd.min.js packages/sdk/src rollup.config.mjs package-lock.json; then
  npm run --silent build:sdk
fi
if newer packages/server/dist/main.js packages/server/src packages/server/tsconfig.json package-lock.json; then
  rm -rf packages/server/dist
  npm run --silent build:server
fi
