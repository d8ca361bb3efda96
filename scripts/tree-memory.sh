#!/usr/bin/env bash
# Memory of a process and all its descendants (e.g. `npm start` with its embedded PostgreSQL):
# RSS of the top Node process, and the PSS sum of the tree (PSS shares shared memory fairly, so
# PostgreSQL's shared buffers are not counted once per backend as an RSS sum would).
#   scripts/tree-memory.sh "$(pgrep -f 'npm start' | head -1)"
set -euo pipefail
root=${1:?usage: tree-memory.sh PID}
tree() { echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }
pids=$(tree "$root")
node=""
for p in $pids; do
  case "$(cat "/proc/$p/comm" 2>/dev/null)" in MainThread | node) node=$p ;; esac
done
if [ -n "$node" ]; then echo "node process $node RSS: $(awk '/^VmRSS:/{printf "%.0f MiB", $2/1024}' "/proc/$node/status")"; fi
for p in $pids; do awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null; done | awk -v n="$(echo $pids | wc -w)" '{s+=$1} END {printf "process tree (%d processes) PSS: %.0f MiB\n", n, s/1024}'
