#!/usr/bin/env bash
# Create or update the repository's virtualenv (.venv) with hyperpy installed editable plus test tools.
#
# Idempotent and quick when nothing changed: pip runs only when pyproject.toml differs from the last
# successful install (a stamp file in .venv). Override the interpreter with PYTHON=/path/to/python3.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
stamp="$venv/.hyperpy-setup-stamp"

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        echo "$PYTHON"
        return
    fi
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    echo "setup: hyperpy needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3)" >&2
    exit 1
}

if [[ ! -x "$venv/bin/python" ]]; then
    python="$(find_python)"
    echo "setup: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

# --- Browser for the UI tests (tests/modules/test_browser_ui.py; added by the runtime-modules work) ---
# Playwright (a [test] extra) drives Debian's Chromium; its own browser download is never used. Install
# the distribution package when it is missing and apt-get is available (root or sudo); otherwise the
# browser tests skip with a message saying so.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [[ "$(id -u)" != "0" ]] && command -v sudo >/dev/null 2>&1; then
        sudo_cmd="sudo"
    fi
    echo "setup: installing Debian chromium for the browser tests"
    if ! { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium; } >/dev/null; then
        echo "setup: could not install chromium; the browser tests will be skipped" >&2
    fi
fi
# --- end browser block ---

wanted="$(sha256sum "$repo/pyproject.toml" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] && "$venv/bin/python" -c 'import hyperpy' 2>/dev/null; then
    exit 0
fi

echo "setup: installing hyperpy (editable) with test tools into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo[test]"
echo "$wanted" >"$stamp"
