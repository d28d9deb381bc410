#!/usr/bin/env bash
# One page under load, next to /healthz, optionally with a CPU profile of the server: for
# before/after comparisons on the same data (the suite measures every page; this one page).
#
#   bash server/benches/page.sh DATA_DIR PATH [DURATION]
#   bash server/benches/page.sh /var/tmp/amtsweg-bench-seed/sqlite-1000000-… /verwaltung/postfach/p-stuttgart-parken
#   PERF=1 bash server/benches/page.sh DATA_DIR PATH 12s      # perf record into $WORK/perf.data
#
# Serves the SQLite database in DATA_DIR (a copy of it: runs change sessions) with BIN (default:
# the release build), logs in as the demo caseworker (password and second factor as documented
# in the README) and runs wrk with 2 threads and 64 connections for DURATION (default 5s).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/amtsweg-target}
bin=${BIN:-$CARGO_TARGET_DIR/release/amtsweg}
[ $# -ge 2 ] || { sed -n '4,6p' "$0"; exit 2; }
src=$1 path=$2 duration=${3:-5s}
WORK=${WORK:-$(mktemp -d)}
export AMTSWEG_DATA_DIR=$WORK/data
rm -rf "$AMTSWEG_DATA_DIR" && cp -a "$src" "$AMTSWEG_DATA_DIR"
unset DATABASE_URL
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export AMTSWEG_LISTEN=127.0.0.1:$port RUST_LOG=warn
base=http://127.0.0.1:$port
"$bin" serve >"$WORK/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$AMTSWEG_DATA_DIR"' EXIT
for _ in $(seq 200); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
csrf() { grep -o 'name="_csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }
jar=$WORK/jar
token=$(curl -fsS -c "$jar" -b "$jar" "$base/anmelden" | csrf)
next=$(curl -sS -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" --data-urlencode "_csrf=$token" \
  --data-urlencode "email=sachbearbeitung@amtsweg.example" \
  --data-urlencode "password=Amtsweg-Demo-2026" "$base/anmelden")
page=$(curl -fsS -c "$jar" -b "$jar" "$next")
code=$(python3 "$root/server/benches/totp.py" AMTSWEGDEMOZWEIFAKTORSTUTTGART23)
curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$(csrf <<<"$page")" \
  --data-urlencode "code=$code" "$next"
cookie=$(awk -F'\t' 'NF==7 {printf "%s%s=%s", (n++ ? "; " : ""), $6, $7}' "$jar")
echo "page: $(curl -fsS -H "Cookie: $cookie" "$base$path" | wc -c) bytes of HTML"
load() { wrk -t2 -c64 -d"$1" -H 'Accept-Encoding: br, gzip' "${@:2}"; }
echo "/healthz: $(load "$duration" "$base/healthz" | awk '/Requests\/sec/ {print $2}') req/s"
if [ -n "${PERF:-}" ]; then
  load "$duration" -H "Cookie: $cookie" "$base$path" >"$WORK/wrk.txt" &
  perf record -F 499 -g -o "$WORK/perf.data" -p "$pid" -- sleep "$(( ${duration%s} - 1 ))" 2>/dev/null
  wait $!
  echo "profile: perf report -i $WORK/perf.data --no-children --sort symbol"
else
  load "$duration" -H "Cookie: $cookie" "$base$path" >"$WORK/wrk.txt"
fi
awk '/Requests\/sec/ {r=$2} /Non-2xx/ {e=$NF} END {printf "%s: %s req/s, %s non-2xx\n", "'"$path"'", r, (e=="" ? 0 : e)}' "$WORK/wrk.txt"
