"""Random public ids and time-ordered event ids."""

import re

from analytics_project.ids import public_id, random_string, uuid7


def test_uuid7_is_version_7_and_monotonic():
    ids = [uuid7() for _ in range(5000)]
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 5000


def test_public_ids():
    assert re.fullmatch(r"[A-Za-z0-9]{10}", public_id())
    assert len({public_id() for _ in range(1000)}) == 1000
    assert re.fullmatch(r"[ab]{20}", random_string(20, "ab"))
