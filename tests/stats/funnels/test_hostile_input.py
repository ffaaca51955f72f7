"""Funnels: hostile bodies and parameters never fail."""

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from stats.models import Funnel
from tests.stats.funnels.support import PIRSCH_KEYS, RANGE

# --- hostile input ------------------------------------------------------------------------


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
STEP_LIKE = st.fixed_dictionaries(
    {
        "alternatives": st.lists(
            st.dictionaries(
                st.sampled_from(["type", "path", "name", "props", "goal"]),
                JSON | st.sampled_from(["page", "event", "goal", "/a*", "x"]),
            ),
            max_size=3,
        )
    }
)


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "steps", "scope", "order", "window", "window_seconds", "open"]),
        JSON | st.lists(STEP_LIKE, max_size=9),
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "from",
                "to",
                "tz",
                "breakdown",
                "compare",
                "country",
                "pattern",
                "step",
                "limit",
                "meta_x",
            ]
        ),
        st.text(max_size=12),
    ),
)
def test_hostile_bodies_and_parameters_never_fail(
    client, auth, site, funnel, settings, body, params
):
    settings.PIRSCH_API_RATE_LIMIT = 10**6  # one client sends every example
    before = list(Funnel.objects.values_list("pk", "name", "steps", "window_seconds"))
    created = client.post(
        "/api/v1/funnels", {"id": site.public_id, **body}, content_type="application/json", **auth
    )
    assert created.status_code in (201, 400), created.content
    if created.status_code == 400:
        assert set(created.json()) == PIRSCH_KEYS
        assert list(Funnel.objects.values_list("pk", "name", "steps", "window_seconds")) == before
    else:
        Funnel.objects.filter(pk=created.json()["id"]).delete()
    patched = client.patch(
        f"/api/v1/funnels/{funnel.pk}", body, content_type="application/json", **auth
    )
    assert patched.status_code in (200, 400)
    for path in ("report", "dropped"):
        response = client.get(f"/api/v1/funnels/{funnel.pk}/{path}", {**RANGE, **params}, **auth)
        assert response.status_code in (200, 400), (path, params, response.content[:300])
