#!/usr/bin/env bash
# Time from `make run` on a fresh clone to the first page (`/` answering 200 with the dashboard).
# Usage: bench/first_page.sh [repo] [port]   — clones repo (default: this checkout's HEAD) into a
# temp dir, uses a fresh data directory (a new embedded PostgreSQL), prints the seconds.
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
port=${2:-8765}
work=$(mktemp -d /tmp/first-page.XXXXXX)
start=$(date +%s.%N)
git clone -q "$repo" "$work/clone"
cd "$work/clone"
OBSERVATORY_DATA_DIR="$work/data" OBSERVATORY_PORT=$port setsid make run >"$work/run.log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null; sleep 1; pkill -f "$work" 2>/dev/null || true' EXIT
until curl -fsS "http://127.0.0.1:$port/" 2>/dev/null | grep -qi '<div id="root"'; do
    kill -0 $pid 2>/dev/null || { echo "make run exited:"; tail -20 "$work/run.log"; exit 1; }
    sleep 0.2
done
end=$(date +%s.%N)
printf 'first page after %.1f s (log: %s/run.log)\n' "$(echo "$end - $start" | bc)" "$work"
