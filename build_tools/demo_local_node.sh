#!/usr/bin/env bash
# Run a package on the local node and talk to it the way kit does:
#   1. `hyperpy run PROJECT` in the background (builds it, boots node fake.dev, installs it),
#   2. `hyperpy inject PROCESS BODY` over the node's /rpc:distro:sys/message endpoint,
#   3. print the response and the node's terminal, then stop the node with Ctrl-C (SIGINT).
#
# Usage: build_tools/demo_local_node.sh [PROJECT] [PROCESS] [BODY]
#   defaults: examples/echo_raw, echo:echo-raw:template.os, {"hello":"local node"}
# Environment: HYPERPY (the command, default `hyperpy`), HYPERPY_DEMO_PORT (default 8081, so a node
# or kit already using 8080 is left alone), HYPERPY_DEMO_WAIT (seconds to wait for the node, 600).
set -euo pipefail

project="${1:-examples/echo_raw}"
process="${2:-echo:echo-raw:template.os}"
body="${3:-{\"hello\":\"local node\"\}}"
port="${HYPERPY_DEMO_PORT:-8081}"
wait_seconds="${HYPERPY_DEMO_WAIT:-600}"
hyperpy="${HYPERPY:-hyperpy}"

log="$(mktemp)"
"$hyperpy" run "$project" --port "$port" >"$log" 2>&1 &
node_pid=$!

stop_node() {
    if kill -0 "$node_pid" 2>/dev/null; then
        kill -INT "$node_pid"
        wait "$node_pid" || true
    fi
    rm -f "$log"
}
trap stop_node EXIT

echo "\$ hyperpy run $project --port $port   (in the background)"
deadline=$((SECONDS + wait_seconds))
until grep -q "ready on" "$log"; do
    if ! kill -0 "$node_pid" 2>/dev/null; then
        cat "$log"
        echo "demo: \`hyperpy run\` exited before the node was ready" >&2
        exit 1
    fi
    if ((SECONDS > deadline)); then
        cat "$log"
        echo "demo: the node was not ready after ${wait_seconds} s" >&2
        exit 1
    fi
    sleep 0.5
done

echo "\$ hyperpy inject $process '$body' --port $port"
"$hyperpy" inject "$process" "$body" --port "$port"

sleep 0.5
echo "--- node terminal ---"
cat "$log"
