#!/usr/bin/env bash
# The whole check a change must pass: set up, lint, and the full test suite (which runs the benchmark
# command once, as a smoke test).
#
#   bash build_tools/test.sh            everything (what CI runs), including the bench --quick smoke run
#   bash build_tools/test.sh -k build   lint + the selected tests only
#
# Exits non-zero on the first failure. pytest's "no tests collected" (exit 5) fails a full run (the
# suite cannot be empty) but only warns when the arguments select nothing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash build_tools/setup.sh
bin="$repo/.venv/bin"

echo "== ruff check"
"$bin/ruff" check .
echo "== ruff format --check"
"$bin/ruff" format --check .

echo "== pytest $*"
status=0
"$bin/pytest" -q "$@" || status=$?
if [[ $status -eq 5 ]]; then
    if [[ $# -eq 0 ]]; then
        echo "test: pytest collected no tests; the suite is missing or broken" >&2
        exit 1
    fi
    echo "test: no tests matched: $*" >&2
    status=0
fi
[[ $status -eq 0 ]] || exit "$status"

# `hyperpy bench --quick` runs once, inside the suite: tests/bench/test_bench_command.py runs the real
# command and fails if any figure cannot be measured (timings are reported, never asserted).
echo "test: all passed"
