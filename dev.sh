#!/usr/bin/env bash
# One entry point for a fresh Linux machine: `bash dev.sh run` starts the dashboard,
# `bash dev.sh test` runs the whole test suite. Both set everything up first.
set -euo pipefail
cd "$(dirname "$0")"

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

need_python() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "Python 3.11 or newer is needed as '$PYTHON' (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
  # Debian packages: chromium (browser tests, static figure export), poppler-utils (PDF checks).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || { echo "Could not install ${missing[*]} with apt-get; install them by hand." >&2; return 1; }
  else
    echo "No apt-get here: install ${missing[*]} by hand (chromium is needed for figure export and browser tests)." >&2
    return 1
  fi
}

setup_venv() {
  local reqs="$1"
  need_python
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$PYTHON" -m venv "$VENV"; }
  fi
  local stamp="$VENV/.installed-$(cat requirements.txt "$reqs" | sha256sum | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r "$reqs"
    touch "$stamp"
  fi
}

cmd="${1:-help}"; shift || true
case "$cmd" in
  run)
    setup_venv requirements.txt
    apt_install chromium fonts-dejavu-core || echo "Static figure export (PNG/SVG/PDF) needs chromium; the dashboard still runs." >&2
    exec "$VENV/bin/python" -m app \
      --server.address "${HOST:-localhost}" --server.port "${PORT:-8501}" \
      --browser.gatherUsageStats false --server.headless true "$@"
    ;;
  test)
    setup_venv requirements-dev.txt
    apt_install chromium poppler-utils fonts-dejavu-core
    "$VENV/bin/python" -m ruff check .
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  setup)
    setup_venv requirements-dev.txt
    apt_install chromium poppler-utils fonts-dejavu-core
    ;;
  *)
    echo "usage: bash dev.sh run | test [pytest args] | setup" >&2; exit 2 ;;
esac
