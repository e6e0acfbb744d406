#!/usr/bin/env bash
# Benchmarks (docs/benchmarks.md): builds, then
#   1. fan-out: server CPU per forwarded packet per viewer, N = 0, 1, 10, 50, 100 node-datachannel
#      receivers (server on CPU 0, receivers on CPU 1), plus N=50 with SIPCAST_SRTP_PREFER_GCM=false;
#   2. TTFF: time to first frame in Chromium on the demo stream, 15 runs;
#   3. egress: CPU per RTMP push and per recording (server + ffmpeg);
#   4. call setup: REST /call/startup -> INVITE / ESTABLISHED latency, calls per second, 100 calls with RTP.
# Extra arguments go to the fan-out benchmark (e.g. `npm run bench -- --repeat 2 --perf`).
# BENCH_SKIP_FANOUT=1, BENCH_SKIP_TTFF=1, BENCH_SKIP_EGRESS=1, BENCH_SKIP_CALLS=1 skip a part. Takes about 8 minutes, plus about 4 for the call-setup part.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is required" >&2; exit 2; }
[[ -x /usr/bin/chromium ]] || [[ -n "${BENCH_SKIP_TTFF:-}" ]] || { echo "bench: /usr/bin/chromium is required for the TTFF part (or BENCH_SKIP_TTFF=1)" >&2; exit 2; }
bash scripts/build.sh
status=0
if [[ -z "${BENCH_SKIP_FANOUT:-}" ]]; then
  npx tsx packages/server/bench/fanout.ts "$@" || status=$?
fi
if [[ -z "${BENCH_SKIP_TTFF:-}" ]]; then
  npx tsx packages/server/bench/ttff.ts || status=$?
fi
if [[ -z "${BENCH_SKIP_EGRESS:-}" ]]; then
  npx tsx packages/server/bench/egress.ts || status=$?
fi
if [[ -z "${BENCH_SKIP_CALLS:-}" ]]; then
  npx tsx packages/server/bench/callSetup.ts || status=$?
fi
exit "$status"
