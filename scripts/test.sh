#!/usr/bin/env bash
# Installs everything the test suite needs, then runs it. README Quick start command (2); .ci/run runs this.
#   Python packages: msetool with its [test] extra (pip).
#   Chromium: Debian's 'chromium' package, when /usr/bin/chromium is missing (apt-get; needs root or sudo).
#   Node packages: the players for end-to-end tests (tests/players, npm ci from the lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  echo "scripts/test.sh: installing Debian's chromium (needed by the browser tests)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ -f tests/players/package.json ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d tests/players/node_modules ]; then
    (cd tests/players && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

set +e
python3 -m pytest "$@"
rc=$?
set -e
# pytest exit 5 means "no tests collected": that is a failure for this project, not a pass.
exit $rc
