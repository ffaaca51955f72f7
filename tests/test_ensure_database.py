"""`make run` creates the PostgreSQL database DATABASE_URL names when it is missing."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _admin_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        autocommit=True,
    )


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs the PostgreSQL server the suite runs on",
)
def test_missing_database_is_created_and_an_existing_one_left_alone():
    db = settings.DATABASES["default"]
    name = f"footfall_ensure_{uuid.uuid4().hex[:8]}"
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    env = {**os.environ, "DATABASE_URL": url}
    script = [sys.executable, str(ROOT / "scripts" / "ensure_database.py")]
    try:
        first = subprocess.run(script, env=env, capture_output=True, text=True, check=True)
        assert f"Created PostgreSQL database '{name}'" in first.stdout
        with _admin_connection() as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
        assert exists
        second = subprocess.run(script, env=env, capture_output=True, text=True, check=True)
        assert second.stdout == ""
    finally:
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
