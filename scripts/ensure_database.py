#!/usr/bin/env python3
"""Create the PostgreSQL database named by DATABASE_URL when it does not exist yet.

`make run` calls this before migrating, so the README's
`DATABASE_URL=postgres://…/footfall make run` works on a fresh server. Does nothing for
the embedded SQLite default or when the database is already there.
"""

import os
import sys

import environ
import psycopg
from psycopg import sql


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return 0
    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    params = {
        "dbname": "postgres",
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    try:
        with psycopg.connect(**params, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created PostgreSQL database {name!r}.")
    except psycopg.Error as error:
        # Not fatal: the server may allow this user its own database only; migrate will say.
        print(f"Could not check or create database {name!r}: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
