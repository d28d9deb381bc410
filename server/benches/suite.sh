#!/usr/bin/env bash
# Benchmark suite: the pages citizens and caseworkers use most, under load, on SQLite and on
# PostgreSQL, each next to /healthz in the same run as the reference.
#
#   bash server/benches/suite.sh                      # both databases, inbox at 1,000,000 cases
#   CASES=10000 BACKENDS=sqlite DURATION=5s bash server/benches/suite.sh    # quick look
#   SEED_ONLY=1 bash server/benches/suite.sh          # seed (and cache) only, measure later
#   ROWS='healthz|submit' CASES=10000 BACKENDS=sqlite bash server/benches/suite.sh   # some rows
#
# Builds the release binary, loads the demo data, seeds CASES cases into the Stuttgart parking
# postbox (about a third assigned to the demo caseworker) and SUBMITS complete drafts of the
# demo citizen, then measures with wrk (Debian), CONNECTIONS connections, DURATION per row:
# /healthz, start page, catalogue search, a form page, the citizen's postbox, the caseworker's
# inbox and submissions (each draft submitted once). Peak server memory is VmHWM from /proc.
# On PostgreSQL a last row measures PostgreSQL alone with pgbench (DURATION in seconds, e.g. 10s).
# Prints Markdown for BENCHMARKS.md.
#
# Seeding a million cases takes minutes; the seeded database is kept under SEED_CACHE (an SQLite
# copy, a PostgreSQL template database) per case count and migration set, and reused.
# PostgreSQL: PG (server URL without database, default postgres://postgres@127.0.0.1:5432);
# PG_PARAMS is appended to the server's DATABASE_URL (and pgbench's), e.g.
# PG_PARAMS='?host=/var/run/postgresql' for the Unix socket instead of TCP.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/amtsweg-target}
CASES=${CASES:-1000000}
BACKENDS=${BACKENDS:-sqlite postgres}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
SUBMISSIONS=${SUBMISSIONS:-20000}
SEED_CACHE=${SEED_CACHE:-/var/tmp/amtsweg-bench-seed}
PG=${PG:-${AMTSWEG_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}}
PASSWORD=Amtsweg-Demo-2026
CITIZEN=buergerin@amtsweg.example
CASEWORKER=sachbearbeitung@amtsweg.example
POSTBOX=p-stuttgart-parken

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# BIN=path/to/amtsweg skips the build (e.g. to try the script with a debug binary).
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q -p amtsweg-server
fi
bin=${BIN:-$CARGO_TARGET_DIR/release/amtsweg}
# The cache key covers the migrations' contents, not only their names: a migration changed
# before it lands must not reuse a database seeded with its earlier text.
migrations=$(cat migrations/sqlite/*.sql migrations/postgres/*.sql | sha256sum | cut -c1-10)
mkdir -p "$SEED_CACHE"
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
csrf() { grep -o 'name="_csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# `Cookie:` header value from a curl cookie jar.
cookies() { awk -F'\t' 'NF==7 {printf "%s%s=%s", (n++ ? "; " : ""), $6, $7}' "$1"; }

# Logs in through the form (and the second factor, if the account has one) into cookie jar $1.
login() {
  local jar=$1 email=$2 token next
  token=$(curl -fsS -c "$jar" -b "$jar" "$base/anmelden" | csrf)
  next=$(curl -sS -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" \
    --data-urlencode "_csrf=$token" --data-urlencode "email=$email" \
    --data-urlencode "password=$PASSWORD" "$base/anmelden")
  if [[ "$next" == *"/anmelden/"* ]]; then
    # Second step: a TOTP code from the demo secret the demo data documents.
    local page code
    page=$(curl -fsS -c "$jar" -b "$jar" "$next")
    code=$(python3 "$root/server/benches/totp.py" "$DEMO_TOTP_SECRET")
    curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$(csrf <<<"$page")" \
      --data-urlencode "code=$code" "$next"
  fi
}

# Fills in one resident parking permit up to the check page; prints the draft id.
fill_draft() {
  local jar=$1 page token loc draft
  page=$(curl -fsS -c "$jar" -b "$jar" "$base/leistungen/99058011012000")
  loc=$(curl -fsS -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" \
    --data-urlencode "_csrf=$(csrf <<<"$page")" "$base/leistungen/99058011012000/antrag")
  draft=$(cut -d/ -f5 <<<"$loc")
  step() {
    local name=$1
    shift
    token=$(curl -fsS -c "$jar" -b "$jar" "$base/antraege/$draft/$name" | csrf)
    curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$token" "$@" \
      "$base/antraege/$draft/$name"
  }
  step person --data-urlencode given_name=Erika --data-urlencode family_name=Mustermann \
    --data-urlencode birth_date.day=27 --data-urlencode birth_date.month=3 \
    --data-urlencode birth_date.year=1990
  step address --data-urlencode "street=Eberhardstraße" --data-urlencode house_number=1 \
    --data-urlencode postal_code=70173 --data-urlencode place=Stuttgart
  step vehicle --data-urlencode "plate=S-AB 1234" --data-urlencode keeper=self
  token=$(curl -fsS -c "$jar" -b "$jar" "$base/antraege/$draft/evidence" | csrf)
  # A 1×1 PNG as the scanned vehicle registration.
  python3 -c 'import base64, sys; sys.stdout.buffer.write(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="))' >"$work/scan.png"
  curl -fsS -o /dev/null -c "$jar" -b "$jar" \
    -F "file=@$work/scan.png;type=image/png;filename=fahrzeugschein.png" \
    "$base/antraege/$draft/evidence/datei/registration_certificate?_csrf=$(urlencode "$token")"
  step evidence
  step period --data-urlencode months=12
  echo "$draft"
}

wait_up() {
  for _ in $(seq 200); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2
  exit 1
}

# User plus system CPU time of the server process so far, in clock ticks.
# (Fields after the command name, which is in parentheses and may contain spaces.)
cpu_ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'; }

# One table row: wrk against $1 with optional extra wrk arguments.
run() {
  local name=$1 url=$2
  shift 2
  # ROWS (an extended regular expression) measures only the rows whose names match it.
  grep -Eq "${ROWS:-.}" <<<"$name" || return 0
  local cpu_before
  cpu_before=$(cpu_ticks)
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: br, gzip' "$@" "$url" |
    awk -v name="$name" '
      /Requests\/sec/ {rps=$2}
      /^ +50%/ {p50=$2}
      /^ +99%/ {p99=$2}
      /^ +[0-9]+ requests in/ {total=$1}
      /Non-2xx/ {err=$NF}
      /Socket errors/ {sub(/^ +Socket errors: /, ""); serr=$0}
      END {printf "| %s | %s | %s | %s | %s ", name, rps, p50, p99, (err=="" ? "0" : err) (serr=="" ? "" : " (" serr ")"); print total > "/dev/stderr"}' 2>"$work/total"
  # The server's own CPU time per request: steadier than requests per second on a machine whose
  # two cores the load generator (and PostgreSQL) share, so small changes show in it.
  awk -v ticks=$(( $(cpu_ticks) - cpu_before )) -v hz="$(getconf CLK_TCK)" \
    '{if ($1 > 0) printf "| %.0f µs ", ticks / hz * 1e6 / $1; else printf "| – "}' "$work/total"
  # Which row drives the server's memory: its resident set and high-water mark after the row.
  awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {printf "| %.1f / %.1f MB |\n", r/1024, h/1024}' "/proc/$pid/status"
}

# PostgreSQL alone, without the portal: pgbench's single-row primary-key SELECT (prepared, one
# statement per transaction) at the same connections, over the same kind of connection as the
# server. Its rate, divided by a page's statements, bounds what that page can reach on this
# machine when PostgreSQL shares the CPU with the server and the load generator.
pg_alone() {
  local name="PostgreSQL alone: pgbench -S, one SELECT per request" db=amtsweg_bench_pgbench out
  grep -Eq "${ROWS:-.}" <<<"$name pgbench" || return 0
  command -v pgbench >/dev/null || { echo "| $name | not run: pgbench is not installed | | | | | |"; return 0; }
  if [ -z "$(psql "$PG/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    # Filled under another name first, so that an interrupted fill is not taken for a database.
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ${db}_tmp" >/dev/null
    psql "$PG/postgres" -qc "CREATE DATABASE ${db}_tmp" >/dev/null
    pgbench -q -i -s 10 "$PG/${db}_tmp" >/dev/null
    psql "$PG/postgres" -qc "ALTER DATABASE ${db}_tmp RENAME TO $db" >/dev/null
  fi
  if ! out=$(pgbench -n -S -M prepared -c "$CONNECTIONS" -j "$THREADS" -T "${DURATION%s}" "$PG/$db${PG_PARAMS:-}" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "| $name | failed (its output is above) | | | | | |"
    return 0
  fi
  awk -v name="$name" '
    /^tps = / {tps=$3}
    /^latency average = / {avg=$4 " " $5}
    /^number of failed transactions: / {failed=$5}
    END {printf "| %s | %s | %s (average) | | %s | | |\n", name, tps, avg, (failed=="" ? "0" : failed)}' <<<"$out"
}

# Prepares data for backend $1 (seeded cases from the cache, or seeded now and cached).
prepare() {
  local backend=$1
  export AMTSWEG_DATA_DIR=$work/$backend
  rm -rf "$AMTSWEG_DATA_DIR"
  mkdir -p "$AMTSWEG_DATA_DIR"
  if [ "$backend" = sqlite ]; then
    unset DATABASE_URL
    local cached=$SEED_CACHE/sqlite-$CASES-$migrations
    if [ ! -d "$cached" ]; then
      "$bin" demo >/dev/null
      "$bin" seed cases --count "$CASES" --postbox "$POSTBOX" --assignee "$CASEWORKER" >&2
      rm -rf "$cached.tmp" && cp -a "$AMTSWEG_DATA_DIR" "$cached.tmp" && mv "$cached.tmp" "$cached"
    fi
    rm -rf "$AMTSWEG_DATA_DIR" && cp -a "$cached" "$AMTSWEG_DATA_DIR"
  else
    local template=amtsweg_bench_seed_${CASES}_$migrations run_db=amtsweg_bench_run
    if [ -z "$(psql "$PG/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$template'")" ]; then
      psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ${template}_tmp" >/dev/null
      psql "$PG/postgres" -qc "CREATE DATABASE ${template}_tmp" >/dev/null
      DATABASE_URL=$PG/${template}_tmp "$bin" demo >/dev/null
      DATABASE_URL=$PG/${template}_tmp "$bin" seed cases --count "$CASES" --postbox "$POSTBOX" --assignee "$CASEWORKER" >&2
      psql "$PG/postgres" -qc "ALTER DATABASE ${template}_tmp RENAME TO $template" >/dev/null
    fi
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $run_db WITH (FORCE)" >/dev/null
    psql "$PG/postgres" -qc "CREATE DATABASE $run_db TEMPLATE $template" >/dev/null
    export DATABASE_URL=$PG/$run_db${PG_PARAMS:-}
  fi
}

# The demo staff accounts' published second-factor key (README, demo accounts).
DEMO_TOTP_SECRET=${DEMO_TOTP_SECRET:-AMTSWEGDEMOZWEIFAKTORSTUTTGART23}
echo "## Benchmark suite ($(date -u +%Y-%m-%d), $(nproc) cores, release build, $CASES cases)"
echo
echo "Command: \`CASES=$CASES BACKENDS=\"$BACKENDS\" DURATION=$DURATION bash server/benches/suite.sh\`"
echo "(wrk, $THREADS threads, $CONNECTIONS connections, $DURATION per row, \`Accept-Encoding: br, gzip\`)."
for backend in $BACKENDS; do
  prepare "$backend"
  if [ -n "${SEED_ONLY:-}" ]; then
    echo "seeded data for $backend is ready" >&2
    continue
  fi
  port=$(free_port)
  export AMTSWEG_LISTEN=127.0.0.1:$port RUST_LOG=warn
  base=http://127.0.0.1:$port
  "$bin" serve >"$work/server-$backend.log" 2>&1 &
  pid=$!
  wait_up
  citizen=$work/citizen.jar caseworker=$work/caseworker.jar
  rm -f "$citizen" "$caseworker"
  login "$citizen" "$CITIZEN"
  login "$caseworker" "$CASEWORKER"
  draft=$(fill_draft "$citizen")
  "$bin" seed drafts --like "$draft" --count "$SUBMISSIONS" >/dev/null
  idle=$(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status")
  echo
  echo "### $backend"
  echo
  echo "| request | requests/s | p50 | p99 | errors (non-2xx/3xx, socket) | server CPU per request | server RSS / peak after the row |"
  echo "|---|---|---|---|---|---|---|"
  run "/healthz (reference)" "$base/healthz"
  run "start page" "$base/"
  run "catalogue search \"parken\"" "$base/leistungen?q=parken"
  run "form page (logged in)" "$base/antraege/$draft/vehicle" -H "Cookie: $(cookies "$citizen")"
  run "citizen postbox" "$base/konto/postfach" -H "Cookie: $(cookies "$citizen")"
  run "caseworker inbox, $CASES cases" "$base/verwaltung/postfach/$POSTBOX" -H "Cookie: $(cookies "$caseworker")"
  run "caseworker search \"müller\"" "$base/verwaltung/postfach/$POSTBOX?q=m%C3%BCller" -H "Cookie: $(cookies "$caseworker")"
  token=$(curl -fsS -b "$citizen" "$base/antraege/$draft/pruefen" | csrf)
  # What the server process wrote (SQLite's log and database file; on PostgreSQL only logs).
  written_before=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
  CSRF=$(urlencode "$token") WRK_THREADS=$THREADS \
    run "submit (each draft once)" "$base/" -s server/benches/submit.lua -H "Cookie: $(cookies "$citizen")"
  [ "$backend" = postgres ] && pg_alone
  sql="SELECT COUNT(*) FROM cases WHERE draft_id LIKE 'seed-draft-%'"
  if [ "$backend" = sqlite ]; then
    cases=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$AMTSWEG_DATA_DIR/amtsweg.db" "$sql")
  else
    cases=$(psql "$DATABASE_URL" -Atqc "$sql")
  fi
  echo
  written=$(( $(awk '/^write_bytes/ {print $2}' "/proc/$pid/io") - written_before ))
  echo "Submissions: $cases drafts became cases (each draft is submitted once; a second submit would be answered with the confirmation, not a new case)."
  if [ "$cases" -gt 0 ]; then
    echo "The server process wrote $(( written / cases / 1024 )) KB per submission (write_bytes of /proc/PID/io)."
  fi
  echo
  echo "Server memory: $idle after start, peak $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status") (VmHWM) after all rows."
  if grep -q ' ERROR ' "$work/server-$backend.log"; then
    echo
    echo "Server log errors:"
    grep ' ERROR ' "$work/server-$backend.log" | head -n5 | sed 's/^/    /'
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
done
