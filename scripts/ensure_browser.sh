#!/usr/bin/env bash
# Install Debian's Chromium and its driver for the real-browser tests when they are missing.
# Playwright drives /usr/bin/chromium; `playwright install` (a download) is never used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "Chromium is missing and cannot be installed here (needs root and apt-get): the browser tests need /usr/bin/chromium." >&2
  exit 1
fi
echo "Installing Chromium for the browser tests…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null
