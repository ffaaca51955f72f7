#!/usr/bin/env bash
# apt_install.sh WHAT PACKAGE... — install Debian packages the tests need, or explain why not.
set -euo pipefail
what="$1"; shift
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "$what is missing and cannot be installed here (needs root and apt-get): install $* yourself." >&2
  exit 1
fi
echo "Installing $what…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "$@" >/dev/null
