#!/usr/bin/env bash
# The demo: set up, build the raw echo example into a kit-compatible package, check that a real
# Hyperware node would load it, and print the zip and its sha256 (the version hash).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/build_tools/setup.sh"
hyperpy="$repo/.venv/bin/hyperpy"
example="$repo/examples/echo_raw"

echo "== hyperpy build examples/echo_raw"
"$hyperpy" build "$example"

if "$hyperpy" check --help >/dev/null 2>&1; then
    echo
    echo "== hyperpy check examples/echo_raw"
    "$hyperpy" check "$example"
fi

zip="$(ls "$example"/target/*.zip)"
echo
echo "package: $zip"
echo "sha256:  $(sha256sum "$zip" | cut -d' ' -f1)"
echo "install on a running node with: kit start-package $example   (or: hyperpy start-package $example --url URL)"

echo
echo "== on the local node: hyperpy run examples/echo_raw, then hyperpy inject (as kit inject-message)"
HYPERPY="$hyperpy" bash "$repo/build_tools/demo_local_node.sh" "$example" echo:echo-raw:template.os '{"hello":"local node"}'
