#!/usr/bin/env bash
# Stop the test Neo4j server that up.sh started (by its recorded pid) and wait for a clean shutdown.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOME_DIR="${NEO4J_HOME_DIR:-$ROOT/.neo4j}"
PID_FILE="$HOME_DIR/server.pid"
if [ ! -f "$PID_FILE" ]; then
  echo "neo4j: not running (no $PID_FILE)"
  exit 0
fi
PID="$(cat "$PID_FILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill "$PID"
  for _ in $(seq 1 60); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "neo4j: pid $PID still running after 60s" >&2
    exit 1
  fi
fi
rm -f "$PID_FILE" "$HOME_DIR/ready"
echo "neo4j: stopped"
