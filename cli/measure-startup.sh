#!/usr/bin/env bash
# Median wall time of `lockstep status` against a running collector, with and without the AppCDS
# archive (cli/make-cds.sh), using the launcher's JVM flags. Usage:
#   cli/measure-startup.sh [HOST:PORT] [RUNS]      (default 127.0.0.1:7443, 10 runs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDR="${1:-127.0.0.1:7443}"
RUNS="${2:-10}"
JAR="$(ls "$ROOT/cli/target/"lockstep-cli-*.jar | grep -v -- '-tests.jar' | head -1)"
CP="$JAR:$ROOT/cli/target/lib/*"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JSA="$ROOT/cli/target/lockstep-cli.jsa"

median() {
  local label="$1"; shift
  local times=() s e
  "$@" >/dev/null 2>&1 || { echo "$label: the command failed (is a collector at $ADDR?)" >&2; return 1; }
  for _ in $(seq 1 "$RUNS"); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    times+=($(( (e - s) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" '
    { t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
      printf "%-28s median %5d ms  (min %d, max %d, %d runs)\n", l, m, t[1], t[NR], NR }'
}

FLAGS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
median "status, no AppCDS" "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.lockstep.cli.Main status --collector "$ADDR"
if [ -f "$JSA" ]; then
  median "status, AppCDS" "$JAVA" "${FLAGS[@]}" -XX:SharedArchiveFile="$JSA" -Xshare:auto \
    -cp "$CP" dev.lockstep.cli.Main status --collector "$ADDR"
  median "status, AppCDS -UsePerfData" "$JAVA" "${FLAGS[@]}" -XX:-UsePerfData \
    -XX:SharedArchiveFile="$JSA" -Xshare:auto -cp "$CP" dev.lockstep.cli.Main status --collector "$ADDR"
else
  echo "no $JSA: run cli/make-cds.sh for the AppCDS numbers"
fi
