#!/usr/bin/env bash
# The docker/compose.yaml stack without Docker: `sla-agent demo`, Debian's
# prometheus (with the committed rules) and prometheus-alertmanager (with the
# committed routing), and the alert sink standing in for pager and ticket
# queue, all on 127.0.0.1. Grafana is left out (not packaged in Debian):
# import dashboards/*.json into any Grafana pointed at this Prometheus.
#
#   bash scripts/stack.sh                    # until Ctrl-C
#   STACK_DURATION=300 bash scripts/stack.sh # or for five minutes
#
# Environment: AGENT_PORT (9877) PROM_PORT (9090) AM_PORT (9093) SINK_PORT
# (5001) SCRAPE_INTERVAL (15s) STACK_DIR (a new temporary directory: data
# and logs) PROMETHEUS (prometheus) ALERTMANAGER (prometheus-alertmanager,
# else alertmanager) STACK_DURATION (seconds; default: until interrupted).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AGENT_PORT="${AGENT_PORT:-9877}"
PROM_PORT="${PROM_PORT:-9090}"
AM_PORT="${AM_PORT:-9093}"
SINK_PORT="${SINK_PORT:-5001}"
SCRAPE_INTERVAL="${SCRAPE_INTERVAL:-15s}"
STACK_DIR="${STACK_DIR:-$(mktemp -d -t sla-stack.XXXXXX)}"
PROMETHEUS="${PROMETHEUS:-prometheus}"
ALERTMANAGER="${ALERTMANAGER:-$(command -v prometheus-alertmanager || echo alertmanager)}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$STACK_DIR"

pids=()
cleanup() {
  trap - EXIT INT TERM
  # Only the processes started here, newest first, by PID. SIGTERM, not SIGINT:
  # background jobs of a non-interactive shell ignore SIGINT.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  echo "stack stopped; data and logs in $STACK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {  # start NAME COMMAND...: run in the background, log to STACK_DIR/NAME.log
  local name="$1"; shift
  "$@" >"$STACK_DIR/$name.log" 2>&1 &
  pids+=("$!")
}

wait_http() {  # wait_http URL SECONDS: until the URL answers 200
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2):
            sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(f"{url} did not answer within {sys.argv[2]} s")
PY
}

# The committed routing, with the sink's compose host name made local.
sed "s#http://alert-sink:5001#http://127.0.0.1:${SINK_PORT}#" \
  "$ROOT/docker/alertmanager/alertmanager.yml" >"$STACK_DIR/alertmanager.yml"
cat >"$STACK_DIR/prometheus.yml" <<YAML
global:
  scrape_interval: ${SCRAPE_INTERVAL}
  evaluation_interval: ${SCRAPE_INTERVAL}
rule_files:
  - ${ROOT}/rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:${AM_PORT}"]
scrape_configs:
  - job_name: sla-agent
    static_configs:
      - targets: ["127.0.0.1:${AGENT_PORT}"]
YAML

cd "$STACK_DIR"
start alert-sink "$PYTHON" "$ROOT/scripts/alert_sink.py" --listen "127.0.0.1:${SINK_PORT}"
start agent "$PYTHON" -m agent.cli demo --listen "127.0.0.1:${AGENT_PORT}" --data-dir "$STACK_DIR/agent-data"
start alertmanager "$ALERTMANAGER" --config.file="$STACK_DIR/alertmanager.yml" \
  --storage.path="$STACK_DIR/alertmanager-data" --web.listen-address="127.0.0.1:${AM_PORT}" \
  --cluster.listen-address=
start prometheus "$PROMETHEUS" --config.file="$STACK_DIR/prometheus.yml" \
  --storage.tsdb.path="$STACK_DIR/prometheus-data" --web.listen-address="127.0.0.1:${PROM_PORT}"

wait_http "http://127.0.0.1:${AGENT_PORT}/healthz" 30
wait_http "http://127.0.0.1:${AM_PORT}/-/ready" 30
wait_http "http://127.0.0.1:${PROM_PORT}/-/ready" 30
cat <<EOF_INFO
sla-agent stack on 127.0.0.1 (logs in $STACK_DIR):
  agent        http://127.0.0.1:${AGENT_PORT}/metrics
  prometheus   http://127.0.0.1:${PROM_PORT}/alerts
  alertmanager http://127.0.0.1:${AM_PORT}/
  notifications: tail -f $STACK_DIR/alert-sink.log
EOF_INFO

if [ -n "${STACK_DURATION:-}" ]; then
  # The timer is one of the stack's processes: left running, it would keep
  # the script's stdout open for the whole duration after a SIGTERM.
  sleep "$STACK_DURATION" &
  pids+=("$!")
  wait $! || true
else
  # Until interrupted, or until any of the four exits.
  wait -n "${pids[@]}" || true
  echo "a process of the stack exited; see the logs in $STACK_DIR" >&2
fi
