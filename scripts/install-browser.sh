#!/usr/bin/env bash
# The web console's browser tests drive Debian's chromium (Playwright cannot download its own
# browser here). Install it with apt-get when /usr/bin/chromium is missing; needs root.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: /usr/bin/chromium is missing; run as root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
