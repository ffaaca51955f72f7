"""The committed snippet build: its size budget, and that it is exactly what the sources build to."""

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "static" / "js"
CORE_BUDGET = 3072  # bytes, minified and gzipped (the budget for the core)
BEHAVIOUR_BUDGET = 4096  # bytes, minified and gzipped (our own budget for the collectors)


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def test_core_is_under_3_kb_gzipped():
    assert gzipped_size(BUILT / "footfall.js") < CORE_BUDGET


def test_behaviour_collectors_are_under_4_kb_gzipped():
    assert gzipped_size(BUILT / "footfall.behaviour.js") < BEHAVIOUR_BUDGET


def test_built_files_are_minified():
    for name in ("footfall.js", "footfall.behaviour.js"):
        built = (BUILT / name).read_text()
        source = (BUILT / "src" / name).read_text()
        assert built.count("\n") <= 2
        assert len(built) < len(source) / 2


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_committed_build_equals_a_fresh_build(tmp_path):
    result = subprocess.run(
        [str(ROOT / "scripts" / "build_snippet.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in ("footfall.js", "footfall.behaviour.js"):
        assert (tmp_path / name).read_bytes() == (BUILT / name).read_bytes(), (
            f"static/js/{name} is stale: run scripts/build_snippet.sh and commit it"
        )
