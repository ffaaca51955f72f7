#!/usr/bin/env bash
# Install Debian's Chromium and its driver for the real-browser tests when they are missing.
# Playwright drives /usr/bin/chromium; `playwright install` (a download) is never used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
"$(dirname "$0")/apt_install.sh" "Chromium (for the browser tests)" chromium chromium-driver
