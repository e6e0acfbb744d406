#!/usr/bin/env bash
# Regenerates packages/server/assets/demo.sclip, the looping demo stream the server plays
# without ffmpeg at run time. Needs ffmpeg with libx264, libopus and (optionally) drawtext.
#
# Video: testsrc2 640x360 25 fps with a running timecode, H.264 constrained baseline, no
#   B-frames, ~800 kbit/s, an IDR (with SPS/PPS in band) exactly every 10 s; 20 s so the loop
#   point is an IDR.
# Audio: a soft 440 Hz beep every second, 880 Hz on each 10 s mark (lines up with the IDRs and
#   the timecode), 48 kHz -> Opus 20 ms 48 kbit/s, and the same at 8 kHz -> G.711 u-law/A-law.
#   The pattern repeats every 10 s, so the 20 s loop has no audible seam.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-packages/server/assets/demo.sclip}"
DUR=20
FPS=25
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

FF=(ffmpeg -hide_banner -loglevel error -nostdin -y)

FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
VF="testsrc2=size=640x360:rate=${FPS}"
FILTERS="$(ffmpeg -hide_banner -filters 2>/dev/null || true)"
if [[ -f "$FONT" && "$FILTERS" == *" drawtext "* ]]; then
  VF+=",drawtext=fontfile=${FONT}:timecode='00\:00\:00\:00':rate=${FPS}:fontsize=44:fontcolor=white"
  VF+=":box=1:boxcolor=black@0.6:boxborderw=8:x=(w-tw)/2:y=h-th-24"
  VF+=",drawtext=fontfile=${FONT}:text='sipcast demo':fontsize=28:fontcolor=white"
  VF+=":box=1:boxcolor=black@0.6:boxborderw=6:x=(w-tw)/2:y=20"
else
  echo "make-demo-clip: drawtext or DejaVu font missing, video has no timecode overlay" >&2
fi

"${FF[@]}" -f lavfi -i "$VF" -frames:v $((DUR * FPS)) -an \
  -c:v libx264 -preset slow -profile:v baseline -pix_fmt yuv420p -bf 0 \
  -g $((10 * FPS)) -keyint_min $((10 * FPS)) -sc_threshold 0 \
  -b:v 800k -maxrate 800k -bufsize 800k \
  -f h264 "$TMP/video.h264"

# Half-sine squared envelope over 150 ms avoids clicks at beep start and end.
BEEP="0.3*sin(2*PI*if(lt(mod(t\,10)\,1)\,880\,440)*t)*lt(mod(t\,1)\,0.15)*pow(sin(PI*mod(t\,1)/0.15)\,2)"
"${FF[@]}" -f lavfi -i "aevalsrc=exprs='${BEEP}':sample_rate=48000:duration=$((DUR + 1))" \
  -c:a pcm_s16le "$TMP/beeps.wav"

"${FF[@]}" -i "$TMP/beeps.wav" -c:a libopus -b:a 48k -vbr off -frame_duration 20 -application audio \
  -ac 1 -f ogg "$TMP/audio.opus"
"${FF[@]}" -i "$TMP/beeps.wav" -ar 8000 -ac 1 -f mulaw "$TMP/audio.pcmu"
"${FF[@]}" -i "$TMP/beeps.wav" -ar 8000 -ac 1 -f alaw "$TMP/audio.pcma"

mkdir -p "$(dirname "$OUT")"
npx tsx packages/server/src/media/clip/make-clip.ts "$TMP" "$OUT" --fps "$FPS"
