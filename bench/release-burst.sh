#!/usr/bin/env bash
# Release-burst benchmark: PARTNERS partners x ADVISORIES advisories become visible at once, and every partner
# fetches its CSAF documents with concurrent clients on loopback (wrk). Then nginx serves the same number of
# pre-written static files of the same size, on the same machine, with the same client, in the same run.
# Prints requests/s, p50/p99 latency and peak RSS of each. Needs wrk and nginx (Debian packages; installed if
# missing). Usage: bench/release-burst.sh   (env: PARTNERS=5000 ADVISORIES=50 DURATION=20s CONNECTIONS=256 ROUNDS=3;
# for PostgreSQL, FOREWARN_DATABASE_URL=postgres://... naming an empty database, and ROUNDS=1)
#
# ROUNDS: forewarn and nginx take turns, each round starting forewarn from the same freshly seeded database, and the
# last lines give each round's ratio and their median. The speed of this machine drifts by a third within minutes;
# a ratio taken from runs a minute apart measured the drift as much as the servers, alternating rounds do not.
#
# 256 connections: at a release 5,000 partners ask at once, far more than 64 clients. With 64, forewarn's figure is
# bound by the time a group commit takes (every request waits for its record to be durable; about 30 records share
# each commit), not by the CPU, which idles about a quarter of the time. nginx gets the same number of connections.
# docs/BENCHMARKS.md gives both.
set -euo pipefail
cd "$(dirname "$0")/.."
# CPU time (user + system, in clock ticks) of the given processes.
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
# Server CPU per document served, from wrk's output and the ticks before and after.
per_doc() {
    awk -v a="$2" -v b="$3" -v hz="$(getconf CLK_TCK)" '/requests in/ { n = $1 } END { if (n > 0) printf "server CPU per document: %.0f µs (%d documents)\n", (b - a) / hz / n * 1e6, n }' "$1"
}
P=${PARTNERS:-5000}
A=${ADVISORIES:-50}
D=${DURATION:-20s}
C=${CONNECTIONS:-256}
R=${ROUNDS:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/forewarn-target}"
command -v wrk >/dev/null && command -v nginx >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null
}
cargo build --release -q
FW="$CARGO_TARGET_DIR/release/forewarn"
work="$(mktemp -d)"
trap 'kill ${fw_pid:-} ${ng_pid:-} 2>/dev/null || true; rm -rf "$work"' EXIT

"$FW" --data-dir "$work/seed" bench seed --partners "$P" --advisories "$A"
# Every (token, document) pair: each partner fetches each advisory's CSAF document.
awk -v a="$A" '{ for (j = 0; j < a; j++) printf "%s /api/v1/advisories/BENCH-%05d/csaf\n", $2, j }' \
    "$work/seed/bench-tokens.txt" > "$work/pairs.txt"
cat > "$work/pairs.lua" <<'LUA'
local pairs_ = {}
for line in io.lines(os.getenv("PAIRS")) do
  local t, p = line:match("(%S+) (%S+)")
  pairs_[#pairs_ + 1] = { t, p }
end
local i = 0
function init(args) i = math.random(#pairs_) end
function request()
  i = i % #pairs_ + 1
  local e = pairs_[i]
  return wrk.format("GET", e[2], { ["Authorization"] = "Bearer " .. e[1] })
end
LUA

# forewarn, started on a fresh copy of the seeded database; prints its figures and appends documents/s to fw.rps.
forewarn_round() {
    rm -rf "$work/data" && cp -r "$work/seed" "$work/data"
    # Written back to disk first, so that forewarn's commits (each waits for its fsync) do not queue behind the
    # copy's writeback.
    sync
    FOREWARN_LOG=warn FOREWARN_RATE_LIMIT_PER_MINUTE=0 "$FW" --data-dir "$work/data" serve --listen 127.0.0.1:18900 >/dev/null 2>&1 &
    fw_pid=$!
    for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18900/healthz >/dev/null && break; sleep 0.2; done
    if [ -z "${size:-}" ]; then
        # Average document size, for the static files.
        size=$(head -n 50 "$work/pairs.txt" | while read -r t p; do curl -sf -H "Authorization: Bearer $t" "http://127.0.0.1:18900$p" | wc -c; done | awk '{ s += $1 } END { printf "%d", s / NR }')
    fi
    echo "== forewarn: $P partners x $A advisories, $(wc -l < "$work/pairs.txt") documents of ~$size bytes, $C connections, $D"
    local cpu0
    cpu0=$(cpu_ticks "$fw_pid")
    PAIRS="$work/pairs.txt" wrk -t2 -c"$C" -d"$D" --latency -s "$work/pairs.lua" http://127.0.0.1:18900 | tee "$work/fw.txt" | grep -E 'Requests/sec|Non-2xx| 50%| 99%'
    per_doc "$work/fw.txt" "$cpu0" "$(cpu_ticks "$fw_pid")"
    echo "peak RSS: $(awk '/VmHWM/ { print $2, $3 }' /proc/$fw_pid/status)"
    awk '/Requests\/sec/ { print $2 }' "$work/fw.txt" >> "$work/fw.rps"
    kill "$fw_pid"; wait "$fw_pid" 2>/dev/null || true
}

# nginx serving the static files; appends documents/s to ng.rps.
nginx_round() {
    nginx -c "$work/nginx.conf" -g 'daemon off;' &
    ng_pid=$!
    for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18901/p0/0.json >/dev/null && break; sleep 0.2; done
    echo "== nginx: the same number of static files of $size bytes, $C connections, $D"
    local ng_pids cpu0 rss pid r
    ng_pids="$ng_pid $(pgrep -P "$ng_pid" | tr "\n" " ")"
    cpu0=$(cpu_ticks $ng_pids)
    PAIRS="$work/static-pairs.txt" wrk -t2 -c"$C" -d"$D" --latency -s "$work/pairs.lua" http://127.0.0.1:18901 | tee "$work/ng.txt" | grep -E 'Requests/sec|Non-2xx| 50%| 99%'
    per_doc "$work/ng.txt" "$cpu0" "$(cpu_ticks $ng_pids)"
    rss=0; for pid in $(pgrep -f "nginx -c $work/nginx.conf") $(pgrep -P "$ng_pid"); do r=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status 2>/dev/null || echo 0); rss=$((rss + r)); done
    echo "peak RSS (all nginx processes): $rss kB"
    awk '/Requests\/sec/ { print $2 }' "$work/ng.txt" >> "$work/ng.rps"
    kill "$ng_pid"; wait "$ng_pid" 2>/dev/null || true
}

# The first round learns the documents' size; the static files are written once, after it.
echo "-- round 1 of $R"
forewarn_round
python3 - "$work" "$P" "$A" "$size" <<'PY'
import os, sys
work, p, a, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
blob = os.urandom(size)
with open(f"{work}/static-pairs.txt", "w") as pairs:
    for i in range(p):
        os.makedirs(f"{work}/static/p{i}")
        for j in range(a):
            with open(f"{work}/static/p{i}/{j}.json", "wb") as f:
                f.write(blob)
            pairs.write(f"x /p{i}/{j}.json\n")
PY
chmod 755 "$work"
chmod -R a+rX "$work/static"
# The 3.4 GB of static files just written go to disk now, not during the next rounds: the kernel's writeback of them
# took 20-40 s, and forewarn's commits in round 2 waited behind it (p99 of 470 ms in that round only).
sync
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    server { listen 127.0.0.1:18901; root $work/static; }
}
CONF
nginx_round
for r in $(seq 2 "$R"); do
    echo "-- round $r of $R"
    forewarn_round
    nginx_round
done

echo "== forewarn documents/s as a share of nginx's, round by round"
paste "$work/fw.rps" "$work/ng.rps" | awk '{ printf "round %d: %.0f / %.0f = %.1f %%\n", NR, $1, $2, 100 * $1 / $2; print 100 * $1 / $2 > "'"$work"'/ratios" }'
sort -n "$work/ratios" | awk '{ v[NR] = $1 } END { printf "median: %.1f %%\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
