#!/usr/bin/env bash
# Creates the AppCDS archive that ./lockstep uses for operator commands when it exists:
#   cli/target/lockstep-cli.jsa
# It records the classes a few typical commands load (help, status/check/incidents in table and
# JSON form, completion) and dumps them into a static archive, so the next JVM maps them instead
# of loading, verifying and linking them again. Run it after `./mvnw package` of cli/ (the
# archive is only valid for the exact jars it was made from; the JVM ignores a stale archive,
# -Xshare:auto in the launcher). Training calls go to LOCKSTEP_COLLECTOR (default
# 127.0.0.1:7443); a collector is not required, but with one running the archive also covers the
# successful-call path.
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
trap 'rm -rf "$WORK"' EXIT

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

cat "$WORK"/classes.*.lst | awk '!seen[$0]++' > "$WORK/classes.lst"
"$JAVA" "${FLAGS[@]}" -Xshare:dump -XX:SharedClassListFile="$WORK/classes.lst" \
  -XX:SharedArchiveFile="$OUT.tmp" -cp "$CP" >"$WORK/dump.log" 2>&1 || {
  cat "$WORK/dump.log" >&2
  echo "make-cds: dump failed" >&2
  exit 1
}
mv "$OUT.tmp" "$OUT"
echo "make-cds: wrote $OUT ($(wc -l <"$WORK/classes.lst") classes listed, $(du -h "$OUT" | cut -f1))"
