#!/usr/bin/env bash
# npm start: install what is missing, build, run the server with the demo stream and pages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build.sh
exec node packages/server/dist/main.js
