#!/usr/bin/env bash
# Platform benchmark: throughput and p99 latency of the start page next to /healthz in the same
# run (64 connections, wrk), compressed page weight of a first and a repeat visit, idle and
# loaded memory (RSS) of the release build on the embedded SQLite default.
#
#   bash server/benches/platform.sh            # prints a Markdown section for BENCHMARKS.md
#   DURATION=30s CONNECTIONS=64 bash server/benches/platform.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/amtsweg-target}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -q -p amtsweg-server
bin=$CARGO_TARGET_DIR/release/amtsweg

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export AMTSWEG_DATA_DIR=$data AMTSWEG_LISTEN=127.0.0.1:$port RUST_LOG=warn
unset DATABASE_URL
"$bin" demo >/dev/null
"$bin" serve &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$port

rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }
hwm() { awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }
curl -fs "$base/" >/dev/null
sleep 1
idle=$(rss)

enc='Accept-Encoding: br, gzip'
size() { curl -fs -H "$enc" -o /dev/null -w '%{size_download}' "$1"; }
html=$(size "$base/")
css_path=$(curl -fs "$base/" | grep -o '/assets/app\.[0-9a-f]*\.css' | head -n1)
css=$(size "$base$css_path")
icon_path=$(curl -fs "$base/" | grep -o '/assets/favicon\.[0-9a-f]*\.svg' | head -n1)
icon=$(size "$base$icon_path")

run() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$enc" "$1" | awk -v name="$2" '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {p99=$2}
    /^ +50%/ {p50=$2}
    /Non-2xx/ {err=$NF}
    /Socket errors/ {serr=$0}
    END {printf "| %s | %s | %s | %s | %s |\n", name, rps, p50, p99, (err==""?"0":err) (serr==""?"":" / " serr)}'
}

echo "### Platform: start page vs /healthz ($(date -u +%Y-%m-%d), $(nproc) cores, release build, SQLite)"
echo
echo "Command: \`bash server/benches/platform.sh\` (wrk, $THREADS threads, $CONNECTIONS connections, $DURATION each, \`$enc\`)"
echo
echo "| endpoint | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "$base/healthz" "/healthz"
run "$base/" "/ (start page)"
echo
echo "| page weight (compressed) | bytes |"
echo "|---|---|"
echo "| start page HTML | $html |"
echo "| stylesheet | $css |"
echo "| favicon | $icon |"
echo "| first visit (HTML + CSS + icon, no web fonts) | $((html + css + icon)) |"
echo "| repeat visit (HTML only; assets are immutable-cached) | $html |"
echo
echo "| memory | RSS |"
echo "|---|---|"
echo "| idle after start | $idle |"
echo "| after the load runs (current) | $(rss) |"
echo "| peak (VmHWM) | $(hwm) |"
