#!/usr/bin/env bash
# Start the test Neo4j server (Community 5.26, Bolt on 127.0.0.1:$NEO4J_PORT) in the background and wait
# until Bolt answers. Idempotent: returns at once when something already answers on that port.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${NEO4J_PORT:-7687}"
HOME_DIR="${NEO4J_HOME_DIR:-$ROOT/.neo4j}"
WAIT_S="${NEO4J_WAIT_S:-180}"

bolt_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

if bolt_answers; then
  echo "neo4j: bolt://127.0.0.1:$PORT already answers"
  exit 0
fi
if [ ! -d "$HERE/target/lib" ] || [ ! -d "$HERE/target/classes" ] \
   || [ "$HERE/pom.xml" -nt "$HERE/target/classes" ] \
   || [ -n "$(find "$HERE/src" -newer "$HERE/target/classes" -type f 2>/dev/null)" ]; then
  echo "neo4j: building services/neo4j (Maven)"
  mvn -q -B -f "$HERE/pom.xml" package -DskipTests
  touch "$HERE/target/classes"  # Maven leaves the folder's time alone when no class changed
fi
mkdir -p "$HOME_DIR"
rm -f "$HOME_DIR/ready"
# A fixed-size heap (-Xms = -Xmx): no resizing pauses while a large load grows the transaction state.
nohup java -Xms${NEO4J_HEAP:-2g} -Xmx${NEO4J_HEAP:-2g} -cp "$HERE/target/classes:$HERE/target/lib/*" \
  pathkg.neo4j.Server "$HOME_DIR" "$PORT" >"$HOME_DIR/server.log" 2>&1 &
echo $! >"$HOME_DIR/server.pid"
for _ in $(seq 1 "$WAIT_S"); do
  if [ -f "$HOME_DIR/ready" ] && bolt_answers; then
    echo "neo4j: up on bolt://127.0.0.1:$PORT (pid $(cat "$HOME_DIR/server.pid"), log $HOME_DIR/server.log)"
    exit 0
  fi
  if ! kill -0 "$(cat "$HOME_DIR/server.pid")" 2>/dev/null; then
    echo "neo4j: the server exited during start; last lines of $HOME_DIR/server.log:" >&2
    tail -20 "$HOME_DIR/server.log" >&2
    exit 1
  fi
  sleep 1
done
echo "neo4j: bolt://127.0.0.1:$PORT did not answer within ${WAIT_S}s (log $HOME_DIR/server.log)" >&2
exit 1
