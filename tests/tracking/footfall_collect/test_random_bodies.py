"""``POST /api/collect``: random bodies never cause a server error."""

import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.tracking.footfall_collect.support import PAGE, post
from tracking.models import Event


@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["k", "u", "r", "t", "w", "h", "e", "n", "p", "$"])
                    | st.sampled_from(["selector", "clicks", "message", "lcp", "issues"])
                    | st.text(max_size=5),
                    children,
                    max_size=6,
                )
            ),
            max_leaves=25,
        ),
        st.fixed_dictionaries(
            {
                "k": st.just("KEY"),
                "u": st.sampled_from([PAGE, "https://dummy.site/#x", "nope", ""]),
                "e": st.lists(
                    st.fixed_dictionaries(
                        {
                            "t": st.sampled_from(
                                [
                                    "pageview",
                                    "custom",
                                    "rage_click",
                                    "web_vitals",
                                    "js_exception",
                                    "seo_diagnostics",
                                    "bogus",
                                ]
                            ),
                            "n": st.text(max_size=10),
                            "p": st.dictionaries(
                                st.sampled_from(
                                    ["selector", "clicks", "message", "lcp", "cls", "issues", "x"]
                                ),
                                st.none()
                                | st.integers()
                                | st.floats()
                                | st.text(max_size=8)
                                | st.lists(st.text(max_size=4), max_size=2),
                                max_size=4,
                            ),
                        }
                    ),
                    max_size=4,
                ),
            }
        ),
    )
)
def test_random_bodies_never_cause_a_server_error(client, behaviour_site, data):
    if isinstance(data, dict) and data.get("k") == "KEY":
        data["k"] = behaviour_site.public_key
    raw = data if isinstance(data, bytes) else json.dumps(data)
    response = post(client, raw)
    assert response.status_code in (202, 400)
    payload = response.json()
    if response.status_code == 400:
        assert set(payload["error"]) >= {"status", "code", "message"}
    assert not Event.objects.exists()  # nothing is written synchronously on the request path
