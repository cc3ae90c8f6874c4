#!/bin/sh
# The engine's switch from the playbook (scripts/ops/disable-workflows.sh enable|disable|status),
# as a stand-in: "enable" disables workflows (writes the flag file), "disable" re-enables them,
# "status" exits 0 when the flag agrees with what the agent asks for (WORKFLOW_EMERGENCY_STOP).
flag="$(dirname "$0")/../../workflows-disabled"
case "$1" in
  enable) echo "$LOCKSTEP_REASON" >"$flag" && echo "workflows disabled" ;;
  disable) rm -f "$flag" && echo "workflows enabled" ;;
  status)
    if [ -e "$flag" ]; then state=true; else state=false; fi
    echo "workflows disabled: $state"
    [ "$state" = "${WORKFLOW_EMERGENCY_STOP:-false}" ] ;;
  *) echo "usage: $0 enable|disable|status" >&2; exit 2 ;;
esac
