#!/usr/bin/env bash
# Generates (or reuses) the media the SIP peers send into .run/peers-media/:
# baresip's video-only mp4 + WAV tone, SIPp's RTP pcaps (H.264 + PCMU/PCMA/opus, 60 s) and raw G.711 files.
# The e2e helpers do this on demand; run it by hand to warm the cache or with --force to rebuild.
# Needs ffmpeg (with libx264, libopus). Usage: tests/peers/media.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec npx tsx tests/e2e/support/peers/media.ts "$@"
