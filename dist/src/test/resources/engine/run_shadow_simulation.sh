#!/usr/bin/env bash
# A stand-in for the workflow engine of one worker host, as the playbook runs it:
#   run_shadow_simulation.sh --hours 24 ROOT
# Every cycle it runs "billing.nightly" as primary and shadow and writes one golden file per run
# (temp name + rename) into ROOT/tmp/shadow_simulation_1/golden, and a cycle line into
# ROOT/var/lib/aos/shadow_24h_1.log. It honours the stop file ROOT/var/lib/aos/EMERGENCY_STOP.
# While ROOT/diverge exists the shadow's output differs: a determinism violation.
set -u
root="${3:?usage: run_shadow_simulation.sh --hours 24 ROOT}"
golden="$root/tmp/shadow_simulation_1/golden"
log="$root/var/lib/aos/shadow_24h_1.log"
mkdir -p "$golden"
host="$(basename "$root")"
cycle=0
trap 'exit 0' TERM INT
while true; do
  if [ -e "$root/var/lib/aos/EMERGENCY_STOP" ]; then
    echo "$(date -u +%FT%TZ) emergency stop in place, cycle skipped" >>"$log"
  else
    cycle=$((cycle + 1))
    run="$host-cycle-$cycle-$$"
    for role in primary shadow; do
      total=42
      if [ "$role" = shadow ] && [ -e "$root/diverge" ]; then total=43; fi
      f="$golden/$run.$role.golden.json"
      printf '{"format":"lockstep.golden/v1","run_id":"%s","workflow":"billing.nightly","role":"%s","seed":7,"timestamp":"%s","steps":[{"index":0,"name":"sum","kind":"compute","output":{"total":%d}}],"output":{"total":%d}}\n' \
        "$run" "$role" "$(date -u +%FT%TZ)" "$total" "$total" >"$golden/.$run.$role.tmp"
      mv "$golden/.$run.$role.tmp" "$f"
    done
    echo "$(date -u +%FT%TZ) Running cycle $cycle run_id=$run: 0 mismatches" >>"$log"
  fi
  sleep 1
done
