#!/usr/bin/env bash
# Makes the start-up archive that ./lockstep uses for operator commands, for the JDK it runs on:
#   JDK 25+: cli/target/lockstep-cli.aot   an AOT cache (JEP 483/514/515): classes loaded and
#            linked ahead of time plus method profiles, so the offline tools reach C2 code sooner
#   older:   cli/target/lockstep-cli.jsa   an AppCDS archive of the classes the commands load
# Next to it, <archive>.java names the Java it was made with; the launcher uses an archive only
# with that same Java and only while it is newer than the cli jar (the JVM would ignore a stale
# one, and then share nothing). Run it after `./mvnw package` of cli/ (./lockstep does).
#
# The training run (dev.lockstep.cli.Training) runs typical commands in one JVM: help, status,
# check, incidents, stop status, completion against a real collector, and the offline golden tools
# (hash, diff, summary) on generated golden files large enough for their hot loops to be profiled.
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
# shellcheck source=java-flags.sh
. "$ROOT/cli/java-flags.sh"
VERSION="$(java_version "$JAVA")"
MAJOR="${VERSION%%.*}"
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
if ! "$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$CP" dev.lockstep.cli.Main status --timeout 2s >/dev/null 2>&1; then
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

# Golden files: a small pair that differs in one step, and a larger pair (about 2 MB each,
# unsorted names, escapes, decimals) for the profiles.
golden() { # FILE ROLE STEPS PICK
  local f="$1" role="$2" steps="$3" pick="$4" i
  {
    printf '{"run_id":"cds-%s","workflow":"w","role":"%s","seed":1,"timestamp":"2025-12-02T10:00:00Z","steps":[' "$steps" "$role"
    for ((i = 0; i < steps; i++)); do
      [ "$i" -gt 0 ] && printf ','
      printf '\n  {"name":"s%d","index":%d,"kind":"compute","started_at":"t%d","rng":[0.5,0.%d],"output":{"pick":%s,' "$i" "$i" "$i" "$i" "$pick"
      printf '"rows":[{"z":%d,"a":"r\\u00e9vision \\u2014 %d","m":12.50},{"z":1234567890123456789,"a":"x","m":0.1}]},' "$i" "$i"
      printf '"response":{"eur":1.08},"hash":"sha256:%d"}' "$i"
    done
    printf '\n],"output":{"total":42}}\n'
  } >"$f"
}
mkdir -p "$WORK/golden" "$WORK/big"
golden "$WORK/golden/cds-2.primary.golden.json" primary 2 7
golden "$WORK/golden/cds-2.shadow.golden.json" shadow 2 8
golden "$WORK/big/cds-8000.primary.golden.json" primary 8000 7
golden "$WORK/big/cds-8000.shadow.golden.json" shadow 8000 8

S="$WORK/golden/cds-2"
B="$WORK/big/cds-8000"
T=$'\t'
{
  echo "--help"
  echo "--version"
  echo "status${T}--help"
  echo "status"
  echo "status${T}-o${T}json"
  echo "check"
  echo "incidents${T}--open"
  echo "stop${T}status"
  echo "completion${T}bash"
  echo "hash${T}$S.primary.golden.json"
  echo "hash${T}-o${T}json${T}$S.primary.golden.json"
  echo "diff${T}--golden-a${T}$S.primary.golden.json${T}--golden-b${T}$S.shadow.golden.json"
  echo "diff${T}-o${T}json${T}--golden-a${T}$S.primary.golden.json${T}--golden-b${T}$S.shadow.golden.json"
  echo "summary${T}--dir${T}$WORK/golden"
  for _ in 1 2 3 4; do
    echo "hash${T}$B.primary.golden.json"
    echo "diff${T}--golden-a${T}$B.primary.golden.json${T}--golden-b${T}$B.shadow.golden.json"
  done
} >"$WORK/training.tsv"

if [ "$MAJOR" -ge 25 ]; then
  OUT="$ROOT/cli/target/lockstep-cli.aot"
  # One-step AOT cache (JEP 514): the training run records, a child JVM assembles the cache.
  # The offline tools run with default tiering, so train with it (profiles come from tiered code).
  "$JAVA" -XX:+UseSerialGC -XX:AOTCacheOutput="$OUT.tmp" -cp "$CP" dev.lockstep.cli.Training "$WORK/training.tsv" \
    >"$WORK/aot.log" 2>&1 || {
    cat "$WORK/aot.log" >&2
    echo "make-cds: AOT cache creation failed" >&2
    exit 1
  }
else
  OUT="$ROOT/cli/target/lockstep-cli.jsa"
  "$JAVA" -XX:+UseSerialGC -Xshare:off -XX:DumpLoadedClassList="$WORK/classes.lst" \
    -cp "$CP" dev.lockstep.cli.Training "$WORK/training.tsv" >/dev/null 2>&1 || true
  "$JAVA" -XX:+UseSerialGC -Xshare:dump -XX:SharedClassListFile="$WORK/classes.lst" \
    -XX:SharedArchiveFile="$OUT.tmp" -cp "$CP" >"$WORK/dump.log" 2>&1 || {
    cat "$WORK/dump.log" >&2
    echo "make-cds: dump failed" >&2
    exit 1
  }
fi
mv "$OUT.tmp" "$OUT"
echo "$VERSION" >"$OUT.java"
echo "make-cds: wrote $OUT for Java $VERSION ($(du -h "$OUT" | cut -f1))"
