#!/usr/bin/env bash
# agent-footprint benchmark: one real lockstep-agent process watching a golden directory that is
# fed at 0 and then at 100 files/s, acked by a local sink (dev.lockstep.agent.internal.SinkServer).
# Prints RSS (MiB, VmRSS from /proc/PID/status) and CPU (% of one core, utime+stime from
# /proc/PID/stat) per phase, then one JSON line. Targets: RSS <= 64 MiB, CPU <= 5 % at 100 files/s.
#
#   agent/bench-footprint.sh            # defaults: warm-up at RATE until the JIT settled, 30 s per phase
#   WARMUP_S=5 PHASE_S=15 RATE=100 agent/bench-footprint.sh
# The warm-up runs at the measured rate for at least WARMUP_S (20) seconds and then on, 10 s at a
# time, until the JIT compiler threads spent at most SETTLED_MS (20) ms of CPU in the last 10 s, or
# WARMUP_MAX_S (300) seconds have passed (SETTLED_MS=-1: exactly WARMUP_S). The agent's C1 compiles
# a method after ~200 calls, so code that runs once per batch or per ack (a few times a second) is
# still interpreted, and then being compiled, for a minute or two after a 20 s warm-up.
#   THREADS=1 adds each thread's CPU time; MEMORY=1 the process's smaps_rollup and, with NMT on, jcmd's summary
#   AGENT_JAVA_OPTS="..." overrides the agent's JVM flags; AGENT_ARCHIVE=0 runs it without its class archive.
# Exit code 0 when it ran (whether or not the targets were met); "pass" in the JSON says that.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WARMUP_S="${WARMUP_S:-20}"
WARMUP_MAX_S="${WARMUP_MAX_S:-300}"
SETTLED_MS="${SETTLED_MS:-20}"
PHASE_S="${PHASE_S:-30}"
RATE="${RATE:-100}"
WORK="$(mktemp -d)"
# shellcheck source=bench-lib.sh
. "$ROOT/agent/bench-lib.sh"
trap cleanup EXIT INT TERM
agent_classpath
start_sink
new_metrics_port
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
start_agent "$WORK/agent.yaml" "$WORK/agent.out"
acked() { metric 'lockstep_agent_events_spooled_total{kind="golden"}'; }

WRITTEN=0
feed() { # $1 = files per second, $2 = seconds
  local rate="$1" secs="$2" start i k per_tick
  start="$(now_ns)"
  per_tick=$(( rate / 10 ))
  for (( i = 0; i < secs * 10; i++ )); do
    for (( k = 0; k < per_tick; k++ )); do
      write_golden "$WORK/golden" "$WRITTEN"
      WRITTEN=$(( WRITTEN + 1 ))
    done
    sleep_until $(( start + (i + 1) * 100000000 ))
  done
}

compiler_ticks() { # CPU ticks of the JIT compiler threads (C1 and C2)
  local t sum=0 v
  for t in /proc/"$AGENT_PID"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in
      C1\ CompilerThre*|C2\ CompilerThre*)
        v="$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "$t/stat" 2>/dev/null)" || v=0
        sum=$(( sum + ${v:-0} )) ;;
    esac
  done
  echo "$sum"
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

echo "agent-footprint: agent pid $AGENT_PID, JVM flags: $AGENT_JAVA_OPTS ${AGENT_ARCHIVE_FLAGS[*]} ${AGENT_TRIM_FLAGS[*]}"
echo "agent-footprint: warm-up at ${RATE} files/s (at least ${WARMUP_S}s, then until the JIT settled: <= ${SETTLED_MS} ms of compiler CPU in 10 s, at most ${WARMUP_MAX_S}s), then ${PHASE_S}s at 0 files/s and ${PHASE_S}s at ${RATE} files/s"
# the warm-up runs at the measured rate, so the JIT has compiled the busy path before it is measured
feed "$RATE" "$WARMUP_S"
warmed="$WARMUP_S"
settled=false
if (( SETTLED_MS < 0 )); then
  settled=skipped
else
  while (( warmed < WARMUP_MAX_S )); do
    j0="$(compiler_ticks)"
    feed "$RATE" 10
    warmed=$(( warmed + 10 ))
    jit_ms=$(( ($(compiler_ticks) - j0) * 1000 / TCK ))
    echo "  warm-up ${warmed}s: JIT compiler threads ${jit_ms} ms of CPU in the last 10 s"
    if (( jit_ms <= SETTLED_MS )); then settled=true; break; fi
  done
fi
echo "  warm-up: ${warmed}s at ${RATE} files/s, JIT settled: ${settled}"
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
if [ -n "${MEMORY:-}" ]; then
  # MEMORY=1: where the resident memory is (add -XX:NativeMemoryTracking=summary to AGENT_JAVA_OPTS
  # for the JVM's own breakdown)
  sed 's/^/    /' "/proc/$AGENT_PID/smaps_rollup"
  "${JAVA_HOME:+$JAVA_HOME/bin/}jcmd" "$AGENT_PID" VM.native_memory summary 2>/dev/null | sed -n '/^Total/,$p' | grep -v '^ *$' | sed 's/^/    /' || true
fi
if [ -n "${THREADS:-}" ]; then
  for t in /proc/$AGENT_PID/task/*; do
    awk -v tck="$TCK" '{ n = $0; sub(/^[^(]*\(/, "", n); sub(/\).*$/, "", n); s = $0; sub(/^.*\) /, "", s); split(s, f, " "); printf "    thread %-28s user %6.2f s  sys %6.2f s\n", n, f[12] / tck, f[13] / tck }' "$t/stat"
  done | sort | head -40
fi
echo "  ${RATE} files/s: RSS ${busy_rss} MiB (max ${busy_max}), CPU ${busy_cpu} % of one core; ${reported:-?} of ${WRITTEN} golden files reported"
pass="$(awk -v m="$busy_max" -v c="$busy_cpu" -v mi="$idle_max" 'BEGIN { print (m <= 64 && mi <= 64 && c <= 5) ? "true" : "false" }')"
echo "  targets: RSS <= 64 MiB, CPU <= 5 % at ${RATE} files/s -> $([ "$pass" = true ] && echo met || echo NOT met)"
printf '{"bench":"agent-footprint","warmup_s":%s,"jit_settled":"%s","phases":[{"files_per_s":0,"rss_mib":%s,"rss_max_mib":%s,"cpu_pct":%s},{"files_per_s":%s,"rss_mib":%s,"rss_max_mib":%s,"cpu_pct":%s,"files_written":%s,"files_reported":%s}],"targets":{"rss_mib":64,"cpu_pct":5},"pass":%s}\n' \
  "$warmed" "$settled" "$idle_rss" "$idle_max" "$idle_cpu" "$RATE" "$busy_rss" "$busy_max" "$busy_cpu" "$WRITTEN" "${reported:-0}" "$pass"
