#!/usr/bin/env bash
# One-time set-up, run by `make demo` and `make test`: system packages where apt
# exists, then a virtual environment in .venv with mlpkit and its dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

# Debian/Ubuntu: Fashion-MNIST from the archive, what venv needs, and PostgreSQL (the
# tests start a server of their own for `mlpkit tune --storage`; no service is used).
if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  need=()
  dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || need+=(dataset-fashion-mnist)
  dpkg -s postgresql >/dev/null 2>&1 || need+=(postgresql)
  python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
  # mlpkit serve: its page's tests drive Debian's chromium (Playwright cannot download its
  # own browser offline); benchmarks/bench_serving.py loads the server with wrk
  dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
  command -v wrk >/dev/null || need+=(wrk)
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
  fi
else
  echo "setup: no apt-get here; mlpkit will download Fashion-MNIST on first use."
  echo "setup: the served page's tests need chromium at /usr/bin/chromium."
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
echo "setup: done (.venv/bin/mlpkit)"
