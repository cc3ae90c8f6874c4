#!/usr/bin/env bash
# Creates the AppCDS archive that ./lockstep uses for operator commands when it exists:
#   cli/target/lockstep-cli.jsa
# It records the classes a few typical commands load (help, status/check/incidents in table and
# JSON form, completion) and dumps them into a static archive, so the next JVM maps them instead
# of loading, verifying and linking them again. Run it after `./mvnw package` of cli/ (the
# archive is only valid for the exact jars it was made from; the JVM ignores a stale archive,
# -Xshare:auto in the launcher, and then shares nothing at all, so rerun it after every build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$(ls "$ROOT/cli/target/"lockstep-cli-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -1 || true)"
if [ -z "$JAR" ] || [ ! -d "$ROOT/cli/target/lib" ]; then
  echo "make-cds: build cli first: ./mvnw -B -q -DskipTests -pl cli -am package" >&2
  exit 2
fi
# Must be the very same -cp string the launcher passes.
CP="$JAR:$ROOT/cli/target/lib/*"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
FLAGS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
OUT="$ROOT/cli/target/lockstep-cli.jsa"
WORK="$(mktemp -d)"

# Train against a real collector so the archive also covers the successful-call path: the one
# at LOCKSTEP_COLLECTOR if it answers, else a throwaway one on a free loopback port (when the
# collector module is built), stopped again afterwards.
export LOCKSTEP_COLLECTOR="${LOCKSTEP_COLLECTOR:-127.0.0.1:7443}"
COLLECTOR_PID=""
stop_collector() {
  if [ -n "$COLLECTOR_PID" ]; then
    kill "$COLLECTOR_PID" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop_collector EXIT
if ! "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.lockstep.cli.Main status --timeout 2s >/dev/null 2>&1; then
  CJAR="$(ls "$ROOT/collector/target/"lockstep-collector-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -1 || true)"
  if [ -n "$CJAR" ] && [ -d "$ROOT/collector/target/lib" ]; then
    "$JAVA" -cp "$CJAR:$ROOT/collector/target/lib/*" dev.lockstep.collector.CollectorMain \
      --listen 127.0.0.1:0 --data-dir "$WORK/collector" --insecure --port-file "$WORK/port" \
      >"$WORK/collector.log" 2>&1 &
    COLLECTOR_PID=$!
    for _ in $(seq 1 100); do
      [ -s "$WORK/port" ] && break
      kill -0 "$COLLECTOR_PID" 2>/dev/null || break
      sleep 0.1
    done
    if [ -s "$WORK/port" ]; then
      export LOCKSTEP_COLLECTOR="127.0.0.1:$(cat "$WORK/port")"
      export LOCKSTEP_INSECURE=true   # the training collector runs with --insecure
    fi
  fi
fi

n=0
train() {
  n=$((n + 1))
  "$JAVA" "${FLAGS[@]}" -Xshare:off -XX:DumpLoadedClassList="$WORK/classes.$n.lst" \
    -cp "$CP" dev.lockstep.cli.Main "$@" >/dev/null 2>&1 || true
}
train --help
train status --help
train status
train status -o json
train check
train incidents --open
train stop status
train completion bash
# The offline golden tools, on two small golden files that differ in one step.
mkdir -p "$WORK/golden"
for role in primary shadow; do
  pick=7; [ "$role" = shadow ] && pick=8
  printf '{"run_id":"cds-1","workflow":"w","role":"%s","seed":1,"timestamp":"2025-12-02T10:00:00Z","steps":[{"index":0,"name":"s","kind":"compute","rng":[0.5],"output":{"pick":%s}},{"index":1,"name":"x","kind":"external","request":{"u":1},"response":{"r":1.5}}],"output":{"total":42}}' \
    "$role" "$pick" >"$WORK/golden/cds-1.$role.golden.json"
done
train hash "$WORK/golden/cds-1.primary.golden.json"
train hash -o json "$WORK/golden/cds-1.primary.golden.json"
train diff --golden-a "$WORK/golden/cds-1.primary.golden.json" --golden-b "$WORK/golden/cds-1.shadow.golden.json"
train diff -o json --golden-a "$WORK/golden/cds-1.primary.golden.json" --golden-b "$WORK/golden/cds-1.shadow.golden.json"
train summary --dir "$WORK/golden"

cat "$WORK"/classes.*.lst | awk '!seen[$0]++' > "$WORK/classes.lst"
"$JAVA" "${FLAGS[@]}" -Xshare:dump -XX:SharedClassListFile="$WORK/classes.lst" \
  -XX:SharedArchiveFile="$OUT.tmp" -cp "$CP" >"$WORK/dump.log" 2>&1 || {
  cat "$WORK/dump.log" >&2
  echo "make-cds: dump failed" >&2
  exit 1
}
mv "$OUT.tmp" "$OUT"
echo "make-cds: wrote $OUT ($(wc -l <"$WORK/classes.lst") classes listed, $(du -h "$OUT" | cut -f1))"
