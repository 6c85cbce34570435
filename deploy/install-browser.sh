#!/usr/bin/env bash
# The console's browser tests drive Debian's headless Chromium through Playwright
# (Playwright's own browser download cannot work here). Install Debian's chromium
# when it is missing. Used by deploy/local-services.sh (so `./dev test` and CI).
set -euo pipefail

[ -x /usr/bin/chromium ] && exit 0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing chromium (the console's browser tests)" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
