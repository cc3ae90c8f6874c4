# Shell functions shared by agent/bench-footprint.sh and agent/bench-soak.sh (sourced, not run):
# the agent's class path, a SinkServer that acks everything, one real agent process, and readings
# of that process from /proc and from its /metrics endpoint.
# Needs ROOT (the repository) and WORK (a scratch directory the caller removes) to be set.

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# shellcheck source=../cli/java-flags.sh
. "$ROOT/cli/java-flags.sh"
# Default: the very flags ./lockstep agent and bin/lockstep-agent use, and (AGENT_ARCHIVE=0 leaves
# it out) the agent's class archive in agent/target as ./lockstep agent makes and uses it.
AGENT_JAVA_OPTS="${AGENT_JAVA_OPTS:-@$ROOT/agent/jvm.options}"
AGENT_ARCHIVE="${AGENT_ARCHIVE:-1}"
AGENT_ARCHIVE_FLAGS=()
# as the launchers add it (AGENT_TRIM=0 leaves it out)
AGENT_TRIM_FLAGS=()
if [ "${AGENT_TRIM:-1}" = 1 ]; then agent_trim_flags "$JAVA"; fi
# fewer glibc malloc arenas, as bin/lockstep-agent sets
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
TCK="$(getconf CLK_TCK)"
SINK_PID=""
AGENT_PID=""
METRICS_PORT=""

agent_classpath() {
  local jar
  jar="$(ls "$ROOT"/agent/target/lockstep-agent-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -1 || true)"
  if [ -z "$jar" ] || [ ! -d "$ROOT/agent/target/lib" ]; then
    echo "agent bench: building the agent (package, tests skipped) ..." >&2
    (cd "$ROOT" && ./mvnw -B -q -o -DskipTests -pl agent -am package) >&2
    jar="$(ls "$ROOT"/agent/target/lockstep-agent-*.jar | grep -v -- '-tests.jar' | head -1)"
  fi
  CP="$jar:$ROOT/agent/target/lib/*"
}

now_ns() { date +%s%N; }

# start_sink: a SinkServer on a free loopback port -> SINK_PORT
start_sink() {
  "$JAVA" -XX:+UseSerialGC -Xmx64m -cp "$CP" dev.lockstep.agent.internal.SinkServer 0 >"$WORK/sink.out" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 100); do
    grep -q "sink listening on" "$WORK/sink.out" 2>/dev/null && break
    sleep 0.1
  done
  SINK_PORT="$(sed -n 's/^sink listening on \([0-9]*\).*/\1/p' "$WORK/sink.out")"
  [ -n "$SINK_PORT" ] || { echo "agent bench: sink did not start" >&2; cat "$WORK/sink.out" >&2; exit 1; }
}

# archive_flags: AGENT_ARCHIVE_FLAGS as ./lockstep agent sets them. When there is no archive yet, a
# short training run of its own (a scratch state and golden directory, a few golden files) records
# the classes first, so the measured agent runs on the archive as an operator's later starts do.
archive_flags() {
  AGENT_ARCHIVE_FLAGS=()
  [ "$AGENT_ARCHIVE" = 1 ] || return 0
  agent_archive_flags "$JAVA" "$CP" "$ROOT/agent/target"
  case "${AGENT_ARCHIVE_FLAGS[*]}" in
    *DumpLoadedClassList*) ;;
    *) return 0 ;;
  esac
  echo "agent bench: recording the agent's classes for its archive (once per build and Java) ..." >&2
  local t="$WORK/training" i
  mkdir -p "$t/golden" "$t/state"
  printf 'agent_id: training\nstate_dir: %s\ncollector:\n  address: 127.0.0.1:%s\n  insecure: true\ngolden:\n  dirs: [%s]\n  settle: 1s\ndisk:\n  paths: [%s]\nmetrics:\n  port: 0\n' \
    "$t/state" "$SINK_PORT" "$t/golden" "$t" >"$t/agent.yaml"
  launch_agent "$t/agent.yaml" "$t/agent.out"
  for i in 0 1 2 3; do write_golden "$t/golden" "$i"; done
  sleep 4
  stop_agent
  agent_archive_flags "$JAVA" "$CP" "$ROOT/agent/target"
}

# launch_agent CONFIG LOG: one agent process (its flags: AGENT_JAVA_OPTS and AGENT_ARCHIVE_FLAGS)
# -> AGENT_PID; waits until it is connected to the sink.
launch_agent() {
  local config="$1" log="$2"
  # shellcheck disable=SC2086 # AGENT_JAVA_OPTS is a list of flags
  "$JAVA" $AGENT_JAVA_OPTS "${AGENT_ARCHIVE_FLAGS[@]}" "${AGENT_TRIM_FLAGS[@]}" -cp "$CP" dev.lockstep.agent.AgentMain --config "$config" >"$log" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 300); do
    grep -q "connected to" "$log" 2>/dev/null && break
    kill -0 "$AGENT_PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "connected to" "$log" || { echo "agent bench: agent did not connect" >&2; cat "$log" >&2; exit 1; }
}

# start_agent CONFIG LOG: the measured agent, on the archive -> AGENT_PID
start_agent() {
  archive_flags
  launch_agent "$@"
}

stop_agent() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=""
  fi
}

stop_sink() {
  if [ -n "$SINK_PID" ]; then
    kill "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
    SINK_PID=""
  fi
}

# cleanup: ends the agent and the sink, removes WORK (the scripts' EXIT trap)
cleanup() {
  stop_agent
  stop_sink
  rm -rf "$WORK"
}

new_metrics_port() { METRICS_PORT="$(( 20000 + RANDOM % 20000 ))"; }

cpu_ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$AGENT_PID/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status"; }
open_fds() { ls "/proc/$AGENT_PID/fd" 2>/dev/null | wc -l; }
thread_count() { awk '/^Threads:/ { print $2 }' "/proc/$AGENT_PID/status"; }

# metric NAME: the sum of that metric's samples on the agent's /metrics (empty when unreachable)
metric() {
  local body
  body="$( { exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT" && printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && cat <&3; } 2>/dev/null || true)"
  printf '%s\n' "$body" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2; n++ } END { if (n) printf "%d", s }'
}

GOLDEN_JSON='{"format":"lockstep.golden/v1","run_id":"RUN","workflow":"billing.reconcile","role":"ROLE","seed":1234567,"timestamp":"2025-12-02T10:00:00Z","duration_ms":1520,"steps":[{"index":0,"name":"load_accounts","kind":"compute","output":{"n":3}},{"index":1,"name":"fetch_rates","kind":"external","request":{"url":"https://rates"},"response":{"eur":1.08}},{"index":2,"name":"sample","kind":"compute","rng":[0.12,0.98],"output":{"pick":7}}],"output":{"total":42}}'

# write_golden DIR N: golden file number N (primary for even N, shadow for odd), written under a
# temporary name and renamed, as a workflow engine does
write_golden() {
  local dir="$1" n="$2" role=primary body
  (( n % 2 )) && role=shadow
  body="${GOLDEN_JSON/RUN/bench-$n}"
  printf '%s' "${body/ROLE/$role}" >"$dir/.bench-$n.$role.tmp"
  mv "$dir/.bench-$n.$role.tmp" "$dir/bench-$n.$role.golden.json"
}

# sleep_until NS: sleeps until the wall clock (date +%s%N) reaches NS
sleep_until() {
  local n
  n="$(now_ns)"
  if (( $1 > n )); then sleep "$(awk -v d=$(( $1 - n )) 'BEGIN { printf "%.3f", d / 1e9 }')"; fi
}
