#!/usr/bin/env bash
# Median wall time of `lockstep status` against a running collector, with and without the start-up
# archive cli/make-cds.sh made for this Java (AppCDS, or an AOT cache on JDK 25+), using the
# launcher's JVM command line (cli/java-flags.sh). Usage:
#   cli/measure-startup.sh [HOST:PORT] [RUNS]      (default 127.0.0.1:7443, 10 runs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDR="${1:-127.0.0.1:7443}"
RUNS="${2:-10}"
JAR="$(ls "$ROOT/cli/target/"lockstep-cli-*.jar | grep -v -- '-tests.jar' | head -1)"
CP="$JAR:$ROOT/cli/target/lib/*"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# shellcheck source=java-flags.sh
. "$ROOT/cli/java-flags.sh"

median() {
  local label="$1"; shift
  local times=() cpus=() s e
  "$@" >/dev/null 2>&1 || { echo "$label: the command failed (is a collector at $ADDR?)" >&2; return 1; }
  for _ in $(seq 1 "$RUNS"); do
    s=$(date +%s%N)
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -f "%U %S" -o "$TMP" "$@" >/dev/null 2>&1 || true
      cpus+=("$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$TMP")")
    else
      "$@" >/dev/null 2>&1 || true
    fi
    e=$(date +%s%N)
    times+=($(( (e - s) / 1000000 )))
  done
  local cpu="n/a"
  if [ ${#cpus[@]} -gt 0 ]; then
    cpu="$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ t[NR] = $1 } END { print int(t[int((NR + 1) / 2)]) " ms" }')"
  fi
  printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" -v cpu="$cpu" '
    { t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
      printf "%-28s median %5d ms wall  (min %d, max %d, %d runs; median CPU user+sys %s)\n", l, m, t[1], t[NR], NR, cpu }'
}

TMP="$(mktemp)"
trap 'rm -f "$TMP"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cli_command "$ROOT" "$JAVA" "$CP" status --collector "$ADDR"
WITH=("${CLI_COMMAND[@]}")
WITHOUT=()
for a in "${WITH[@]}"; do
  case "$a" in
    -XX:AOTCache=* | -XX:SharedArchiveFile=* | -Xshare:auto) ;;
    *) WITHOUT+=("$a") ;;
  esac
done
median "status, no archive" "${WITHOUT[@]}"
if [ ${#ARCHIVE_FLAGS[@]} -gt 0 ]; then
  median "status, ${ARCHIVE_FLAGS[0]%%=*}" "${WITH[@]}"
else
  echo "no start-up archive for Java $(java_version "$JAVA"): run cli/make-cds.sh for those numbers"
fi
