#!/usr/bin/env bash
# `make run`: migrate, create the demo (admin log-in printed), start the server and,
# when REDIS_URL is set, the event consumer and the Celery worker and beat (otherwise the
# beat schedule runs in-process: manage.py schedule).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

if [ -f scripts/install_geoip.py ]; then
  "$PY" scripts/install_geoip.py || echo "GeoIP database not installed: locations fall back to time zone and language."
fi
"$PY" scripts/ensure_database.py
"$PY" manage.py migrate --noinput
if [ -z "${REDIS_URL:-}" ]; then
  # Without Redis, sessions and rate limits live in a table every worker sees: in the
  # database, or in data/cache.sqlite3 on the embedded default (analytics_project/settings.py).
  if [ -n "${DATABASE_URL:-}" ]; then
    "$PY" manage.py createcachetable
  else
    "$PY" manage.py createcachetable --database cache
  fi
fi
"$PY" manage.py collectstatic --noinput >/dev/null
"$PY" manage.py demo --host "$HOST" --port "$PORT"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

if [ -n "${REDIS_URL:-}" ]; then
  "$PY" manage.py consume_events & pids+=($!)
  # Beat runs inside the worker (-B, forked from it: it shares the worker's memory instead of
  # loading the application a fifth time; one host runs one beat; docs/decisions.md, #18).
  .venv/bin/celery -A analytics_project worker -B --loglevel=info --concurrency=2 \
    --schedule=data/celerybeat-schedule & pids+=($!)
else
  # No broker: the same beat schedule (rollups, reports, alerts, retention) runs in-process.
  "$PY" manage.py schedule & pids+=($!)
fi

echo "Footfall is running on http://$HOST:$PORT/  (Ctrl-C stops it)"
BIND="$HOST:$PORT" .venv/bin/gunicorn -c gunicorn.conf.py analytics_project.wsgi:application & pids+=($!)
wait -n
