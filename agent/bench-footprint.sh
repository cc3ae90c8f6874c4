#!/usr/bin/env bash
# agent-footprint benchmark: one real lockstep-agent process watching a golden directory that is
# fed at 0 and then at 100 files/s, acked by a local sink (dev.lockstep.agent.internal.SinkServer).
# Prints RSS (MiB, VmRSS from /proc/PID/status) and CPU (% of one core, utime+stime from
# /proc/PID/stat) per phase, then one JSON line. Targets: RSS <= 64 MiB, CPU <= 5 % at 100 files/s.
#
#   agent/bench-footprint.sh            # defaults: 10 s warm-up, 30 s per phase
#   WARMUP_S=5 PHASE_S=15 RATE=100 agent/bench-footprint.sh
#   AGENT_JAVA_OPTS="..." overrides the agent's JVM flags.
# Exit code 0 when it ran (whether or not the targets were met); "pass" in the JSON says that.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WARMUP_S="${WARMUP_S:-10}"
PHASE_S="${PHASE_S:-30}"
RATE="${RATE:-100}"
# Default: the very flags ./lockstep agent and bin/lockstep-agent use.
AGENT_JAVA_OPTS="${AGENT_JAVA_OPTS:-@$ROOT/agent/jvm.options}"
# fewer glibc malloc arenas: a few MiB less RSS for a JVM with ~25 threads
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

jar="$(ls "$ROOT"/agent/target/lockstep-agent-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -1 || true)"
if [ -z "$jar" ] || [ ! -d "$ROOT/agent/target/lib" ]; then
  echo "agent-footprint: building the agent (package, tests skipped) ..." >&2
  (cd "$ROOT" && ./mvnw -B -q -o -DskipTests -pl agent -am package) >&2
  jar="$(ls "$ROOT"/agent/target/lockstep-agent-*.jar | grep -v -- '-tests.jar' | head -1)"
fi
CP="$jar:$ROOT/agent/target/lib/*"

WORK="$(mktemp -d)"
SINK_PID=""
AGENT_PID=""
cleanup() {
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$JAVA" -XX:+UseSerialGC -Xmx64m -cp "$CP" dev.lockstep.agent.internal.SinkServer 0 >"$WORK/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 100); do
  grep -q "sink listening on" "$WORK/sink.out" 2>/dev/null && break
  sleep 0.1
done
SINK_PORT="$(sed -n 's/^sink listening on \([0-9]*\).*/\1/p' "$WORK/sink.out")"
[ -n "$SINK_PORT" ] || { echo "agent-footprint: sink did not start" >&2; cat "$WORK/sink.out" >&2; exit 1; }

METRICS_PORT="$(( 20000 + RANDOM % 20000 ))"
mkdir -p "$WORK/golden" "$WORK/state"
cat >"$WORK/agent.yaml" <<YAML
agent_id: bench-agent
state_dir: $WORK/state
collector:
  address: 127.0.0.1:$SINK_PORT
  insecure: true
golden:
  dirs: [$WORK/golden]
  settle: 1s
disk:
  paths: [$WORK]
metrics:
  port: $METRICS_PORT
YAML

# shellcheck disable=SC2086
"$JAVA" $AGENT_JAVA_OPTS -cp "$CP" dev.lockstep.agent.AgentMain --config "$WORK/agent.yaml" >"$WORK/agent.out" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 100); do
  grep -q "connected to" "$WORK/agent.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "connected to" "$WORK/agent.out" || { echo "agent-footprint: agent did not connect" >&2; cat "$WORK/agent.out" >&2; exit 1; }

TCK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$AGENT_PID/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status"; }
acked() {
  local body
  body="$( { exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT" && printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && cat <&3; } 2>/dev/null || true)"
  printf '%s\n' "$body" | awk '/^lockstep_agent_events_spooled_total\{kind="golden"\}/ { printf "%d", $2 }'
}
now_ns() { date +%s%N; }

GOLDEN_JSON='{"format":"lockstep.golden/v1","run_id":"RUN","workflow":"billing.reconcile","role":"ROLE","seed":1234567,"timestamp":"2025-12-02T10:00:00Z","duration_ms":1520,"steps":[{"index":0,"name":"load_accounts","kind":"compute","output":{"n":3}},{"index":1,"name":"fetch_rates","kind":"external","request":{"url":"https://rates"},"response":{"eur":1.08}},{"index":2,"name":"sample","kind":"compute","rng":[0.12,0.98],"output":{"pick":7}}],"output":{"total":42}}'
WRITTEN=0
feed() { # $1 = files per second, $2 = seconds
  local rate="$1" secs="$2" start next i n=0 per_tick role run
  start="$(now_ns)"
  per_tick=$(( rate / 10 ))
  for (( i = 0; i < secs * 10; i++ )); do
    for (( k = 0; k < per_tick; k++ )); do
      run="bench-$WRITTEN"
      role=primary; (( WRITTEN % 2 )) && role=shadow
      body="${GOLDEN_JSON/RUN/$run}"
      printf '%s' "${body/ROLE/$role}" >"$WORK/golden/.$run.$role.tmp"
      mv "$WORK/golden/.$run.$role.tmp" "$WORK/golden/$run.$role.golden.json"
      WRITTEN=$(( WRITTEN + 1 ))
    done
    next=$(( start + (i + 1) * 100000000 ))
    n="$(now_ns)"
    if (( next > n )); then sleep "$(awk -v d=$(( next - n )) 'BEGIN { printf "%.3f", d / 1e9 }')"; fi
  done
}

measure() { # $1 = files/s; prints "rss_mib rss_max_mib cpu_pct"
  local rate="$1" t0 c0 t1 c1 max=0 r
  t0="$(now_ns)"; c0="$(cpu_ticks)"
  if (( rate > 0 )); then
    feed "$rate" "$PHASE_S" &
    local feeder=$!
    while kill -0 "$feeder" 2>/dev/null; do
      r="$(rss_kib)"; (( r > max )) && max=$r
      sleep 1
    done
    wait "$feeder"
  else
    for (( s = 0; s < PHASE_S; s++ )); do
      r="$(rss_kib)"; (( r > max )) && max=$r
      sleep 1
    done
  fi
  t1="$(now_ns)"; c1="$(cpu_ticks)"
  r="$(rss_kib)"; (( r > max )) && max=$r
  awk -v r="$r" -v m="$max" -v dc=$(( c1 - c0 )) -v dt=$(( t1 - t0 )) -v tck="$TCK" \
    'BEGIN { printf "%.1f %.1f %.2f\n", r / 1024, m / 1024, (dc / tck) / (dt / 1e9) * 100 }'
}

echo "agent-footprint: agent pid $AGENT_PID, JVM flags: $AGENT_JAVA_OPTS"
echo "agent-footprint: warm-up ${WARMUP_S}s, then ${PHASE_S}s at 0 files/s and ${PHASE_S}s at ${RATE} files/s"
feed 10 "$WARMUP_S"
read -r idle_rss idle_max idle_cpu < <(measure 0)
echo "  0 files/s:   RSS ${idle_rss} MiB (max ${idle_max}), CPU ${idle_cpu} % of one core"
before="$WRITTEN"
read -r busy_rss busy_max busy_cpu < <(measure "$RATE")
WRITTEN=$(( before + RATE * PHASE_S ))
# wait for the agent to report everything it was fed (settle time + batching)
for _ in $(seq 1 60); do
  a="$(acked)"; [ -n "$a" ] && (( a >= WRITTEN )) && break
  sleep 0.5
done
reported="$(acked)"
if [ -n "${THREADS:-}" ]; then
  for t in /proc/$AGENT_PID/task/*; do
    awk -v tck="$TCK" '{ n = $0; sub(/^[^(]*\(/, "", n); sub(/\).*$/, "", n); s = $0; sub(/^.*\) /, "", s); split(s, f, " "); printf "    thread %-28s user %6.2f s  sys %6.2f s\n", n, f[12] / tck, f[13] / tck }' "$t/stat"
  done | sort | head -40
fi
echo "  ${RATE} files/s: RSS ${busy_rss} MiB (max ${busy_max}), CPU ${busy_cpu} % of one core; ${reported:-?} of ${WRITTEN} golden files reported"
pass="$(awk -v m="$busy_max" -v c="$busy_cpu" -v mi="$idle_max" 'BEGIN { print (m <= 64 && mi <= 64 && c <= 5) ? "true" : "false" }')"
echo "  targets: RSS <= 64 MiB, CPU <= 5 % at ${RATE} files/s -> $([ "$pass" = true ] && echo met || echo NOT met)"
printf '{"bench":"agent-footprint","phases":[{"files_per_s":0,"rss_mib":%s,"rss_max_mib":%s,"cpu_pct":%s},{"files_per_s":%s,"rss_mib":%s,"rss_max_mib":%s,"cpu_pct":%s,"files_written":%s,"files_reported":%s}],"targets":{"rss_mib":64,"cpu_pct":5},"pass":%s}\n' \
  "$idle_rss" "$idle_max" "$idle_cpu" "$RATE" "$busy_rss" "$busy_max" "$busy_cpu" "$WRITTEN" "${reported:-0}" "$pass"
