#!/bin/sh
# Build the Footfall snippet: static/js/src/*.js → minified static/js/*.js (committed).
# Usage: scripts/build_snippet.sh [OUTPUT_DIR]   (default static/js; the test builds elsewhere)
set -eu
cd "$(dirname "$0")/.."
out="${1:-static/js}"
if [ ! -x node_modules/.bin/esbuild ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p "$out"
for name in footfall footfall.behaviour; do
    node_modules/.bin/esbuild "static/js/src/$name.js" --minify --target=es2017 \
        --format=iife --charset=utf8 --legal-comments=none --log-level=warning \
        --outfile="$out/$name.js"
done
