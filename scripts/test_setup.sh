#!/usr/bin/env bash
# Set-up the test suite needs beyond Deno itself: Jupyter's nbconvert + nbclient (Debian
# packages) and Deno's Jupyter kernelspec, so the notebook tests can execute notebooks, and
# Chromium, so the HTML report is loaded in a real browser.
# Idempotent and quiet when everything is already there.
set -euo pipefail

# .ci/run's second, fresh-clone pass skips the Jupyter and Chromium tests (tests/support/external_tools.ts):
# nothing to install for it.
if [ "${RPT_SKIP_EXTERNAL_TOOL_TESTS:-}" = "1" ]; then
  exit 0
fi

have_nbconvert() { /usr/bin/python3 -c "import nbconvert, nbclient" 2>/dev/null; }

if ! have_nbconvert || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "scripts/test_setup.sh: installing jupyter-nbconvert, python3-nbclient and chromium (apt-get)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      jupyter-nbconvert python3-nbclient chromium >/dev/null
  else
    echo "scripts/test_setup.sh: the tests need Debian's jupyter-nbconvert, python3-nbclient and chromium;" >&2
    echo "  run as root: apt-get update && apt-get install -y jupyter-nbconvert python3-nbclient chromium" >&2
    exit 1
  fi
fi

# The kernelspec records the path of the deno binary that installs it, so install it with
# the same deno that runs the tests.
deno jupyter --install --force >/dev/null 2>&1
