"""Matomo ecommerce (issue #15): the tracker's requests → orders (deduplicated by ``ec_id``),
items, carts and abandoned carts, through the read module, the API and the dashboard page."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create, oauth_token_issue
from stats import query as q
from stats.ecommerce import selectors as es
from stats.rollups import rollup_pending
from stats.selectors import public_session_id
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tracking.models import Event
from tracking.protocols import matomo

PIRSCH_KEYS = {"validation", "error", "context"}
PATHS = ("/api/v1/ecommerce", "/api/v1/ecommerce/orders")
DAY = date(2026, 3, 2)
RANGE = {"from": "2026-03-02", "to": "2026-03-02"}
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="shop.example", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def bearer(user, site=None) -> dict:
    client, _ = api_client_create(user=user, type="oauth", site=site)
    return {"HTTP_AUTHORIZATION": f"Bearer {oauth_token_issue(client=client)[0]}"}


def order_row(site_id, when, order_id, revenue, items, *, session=1, visitor=1, **fields):
    """An order event as the Matomo adapter stores it (items through the adapter's parser)."""
    props = {"order_id": order_id, **fields.pop("props", {})}
    if items is not None:
        props["items"] = matomo.ecommerce_items(json.dumps(items))
    return event_row(
        site_id,
        when,
        kind="custom",
        name=matomo.ORDER_EVENT,
        protocol="matomo",
        props=props,
        revenue_amount=str(revenue),
        revenue_currency="",
        revenue_reporting=str(revenue),
        revenue_reporting_currency="EUR",
        session=session,
        visitor=visitor,
        **fields,
    )


def cart_row(site_id, when, total, items, *, session=1, visitor=1, **fields):
    props = {"cart_total": str(total), "items": matomo.ecommerce_items(json.dumps(items))}
    return event_row(
        site_id,
        when,
        kind="custom",
        name=matomo.CART_EVENT,
        protocol="matomo",
        props=props,
        session=session,
        visitor=visitor,
        **fields,
    )


def report(site, first=DAY, last=DAY, **filters):
    return es.ecommerce_report(q.StatsQuery(site.pk, first, last, "UTC", filters), "EUR")


# --- the tracker's requests ------------------------------------------------------------------


def track(client, params):
    return client.get(f"/matomo.php?{urlencode(params)}", HTTP_USER_AGENT=CHROME)


def test_the_javascript_trackers_requests_become_orders_items_carts_and_product_views(
    client, site, drain
):
    """The shapes Matomo's JS tracker sends: setEcommerceView + trackPageView (``_pk*``
    parameters; older trackers: page custom variables), addEcommerceItem +
    trackEcommerceCartUpdate (``idgoal=0``, ``revenue`` = cart total, ``ec_items`` with a
    category array), trackEcommerceOrder (``ec_id``, ``revenue``, ``ec_st``/``ec_tx``/
    ``ec_sh``/``ec_dt``, ``ec_items``)."""
    base = {
        "idsite": site.pk,
        "rec": 1,
        "url": "https://shop.example/p/book",
        "_id": "0123456789abcdef",
    }
    items = [
        ["9780", "Analytics Book", ["Books", "Best sellers"], 9.99, 1],
        ["SKU-2", "Gadget", "Electronics", "19.99", "2"],
    ]
    assert (
        track(
            client,
            {
                **base,
                "action_name": "Book",
                "_pks": "9780",
                "_pkn": "Analytics Book",
                "_pkc": '["Books","Best sellers"]',
                "_pkp": "9.99",
            },
        ).status_code
        == 200
    )
    cvar = {
        "3": ["_pks", "SKU-2"],
        "4": ["_pkn", "Gadget"],
        "5": ["_pkc", "Electronics"],
        "2": ["_pkp", "19.99"],
    }
    assert (
        track(client, {**base, "action_name": "Gadget", "cvar": json.dumps(cvar)}).status_code
        == 200
    )
    cart = {"idgoal": 0, "revenue": "49.97", "ec_items": json.dumps(items)}
    assert track(client, {**base, **cart}).status_code == 200
    order = {
        "idgoal": 0,
        "ec_id": "A-1001",
        "revenue": "52.47",
        "ec_st": "49.97",
        "ec_tx": "7.98",
        "ec_sh": "4.50",
        "ec_dt": "2",
        "ec_items": json.dumps(items),
    }
    assert track(client, {**base, **order}).status_code == 200
    events = drain()
    views = [e.props for e in events if e.kind == "pageview"]
    assert [{k: v for k, v in p.items() if k.startswith("product_")} for p in views] == [
        {
            "product_sku": "9780",
            "product_name": "Analytics Book",
            "product_category": "Books, Best sellers",
            "product_price": "9.99",
        },
        {
            "product_sku": "SKU-2",
            "product_name": "Gadget",
            "product_category": "Electronics",
            "product_price": "19.99",
        },
    ]
    assert not any(k.startswith("_pk") for p in views for k in p)
    [cart_event] = [e for e in events if e.name == "Cart Update"]
    assert cart_event.revenue_amount is None  # a cart's value is no revenue
    assert cart_event.props["cart_total"] == "49.97"

    today = timezone.now().date()
    result = report(site, today, today)
    summary = result["summary"]
    assert (summary["orders"], summary["revenue"], summary["average_order_value"]) == (
        1,
        "52.47",
        "52.47",
    )
    assert (summary["subtotal"], summary["tax"], summary["shipping"], summary["discount"]) == (
        "49.97",
        "7.98",
        "4.50",
        "2.00",
    )
    assert (summary["sessions"], summary["converting_sessions"], summary["conversion_rate"]) == (
        1,
        1,
        1.0,
    )
    assert (summary["cart_updates"], summary["abandoned_carts"]) == (1, 0)  # it ordered
    assert result["products"] == [
        {
            "sku": "SKU-2",
            "name": "Gadget",
            "revenue": "39.98",
            "quantity": 2,
            "orders": 1,
            "average_price": "19.99",
        },
        {
            "sku": "9780",
            "name": "Analytics Book",
            "revenue": "9.99",
            "quantity": 1,
            "orders": 1,
            "average_price": "9.99",
        },
    ]
    assert [(c["category"], c["revenue"]) for c in result["categories"]] == [
        ("Electronics", "39.98"),
        ("Best sellers", "9.99"),
        ("Books", "9.99"),
    ]
    [logged] = result["orders"]
    assert logged["order_id"] == "A-1001" and logged["items"][0] == {
        "sku": "9780",
        "name": "Analytics Book",
        "categories": ["Books", "Best sellers"],
        "price": "9.99",
        "quantity": 1,
    }


def test_an_order_tracked_twice_counts_once_for_its_first_tracking(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://shop.example/thanks", "idgoal": 0}
    for _ in range(2):  # a reloaded thank-you page
        assert track(client, {**base, "ec_id": "A1", "revenue": "10"}).status_code == 200
    assert (
        track(
            client, {**base, "ec_id": "A2", "revenue": "5", "_id": "fedcba9876543210"}
        ).status_code
        == 200
    )
    assert len(drain()) == 3
    today = timezone.now().date()
    summary = report(site, today, today)["summary"]
    assert (summary["orders"], summary["revenue"], summary["duplicate_orders"]) == (2, "15.00", 1)


def test_an_order_first_tracked_before_the_range_is_not_counted_again(site):
    earlier = DAY - timedelta(days=3)
    store(
        [
            order_row(site.pk, at(9, day=earlier), "A1", 10, [["S1", "One", "", 10, 1]], session=5),
            order_row(site.pk, at(9), "A1", 10, [["S1", "One", "", 10, 1]], session=6),
            order_row(site.pk, at(10), "B2", 7, [["S2", "Two", "", 7, 1]], session=7),
        ]
    )
    result = report(site)
    assert [o["order_id"] for o in result["orders"]] == ["B2"]
    assert result["summary"]["duplicate_orders"] == 1
    assert [o["order_id"] for o in report(site, earlier, DAY)["orders"]] == ["B2", "A1"]


def test_orders_are_deduplicated_per_site(owner, site):
    other = SiteFactory()
    store(
        [
            order_row(other.pk, at(8), "A1", 99, None, session=50),
            order_row(site.pk, at(9), "A1", 10, None, session=5),
        ]
    )
    assert report(site)["summary"]["orders"] == 1
    assert report(other)["summary"]["revenue"] == "99.00"


def test_abandoned_carts_are_sessions_with_a_cart_and_no_order(site):
    shoe = [["SH", "Shoe", "Shoes", 50, 1]]
    two_shoes = [["SH", "Shoe", "Shoes", 50, 2]]
    store(
        [
            # session 1: two cart updates, no order → abandoned with the last cart
            cart_row(site.pk, at(9), 50, shoe, session=1, visitor=1),
            cart_row(site.pk, at(9, 5), 100, two_shoes, session=1, visitor=1),
            # session 2: cart then order → not abandoned
            cart_row(site.pk, at(10), 50, shoe, session=2, visitor=2),
            order_row(site.pk, at(10, 3), "O2", 55, shoe, session=2, visitor=2),
            # session 3: cart, and a repeated tracking of an older order → it ordered
            order_row(site.pk, at(8), "O3", 20, shoe, session=9, visitor=9),
            cart_row(site.pk, at(11), 30, shoe, session=3, visitor=3),
            order_row(site.pk, at(11, 1), "O3", 20, shoe, session=3, visitor=3),
            # session 4: an empty cart (all removed) is still an abandoned cart of value 0
            cart_row(site.pk, at(12), 0, [], session=4, visitor=4),
        ]
    )
    result = report(site)
    assert [(c["session_id"], c["value"]) for c in result["abandoned_carts"]] == [
        (public_session_id(4), "0.00"),
        (public_session_id(1), "100.00"),
    ]
    assert result["abandoned_carts"][1]["items"] == [
        {"sku": "SH", "name": "Shoe", "price": "50.00", "quantity": 2}
    ]
    summary = result["summary"]
    assert (summary["abandoned_carts"], summary["abandoned_value"], summary["cart_updates"]) == (
        2,
        "100.00",
        5,
    )


def test_filters_select_the_orders_sessions(site):
    store(
        [
            event_row(site.pk, at(9), session=1, visitor=1, country_code="DE", path="/shop"),
            order_row(
                site.pk, at(9, 1), "DE-1", 10, [["S", "S", "Cat", 10, 1]], session=1, visitor=1
            ),
            event_row(site.pk, at(10), session=2, visitor=2, country_code="FR", path="/shop"),
            order_row(
                site.pk, at(10, 1), "FR-1", 30, [["T", "T", "Cat", 15, 2]], session=2, visitor=2
            ),
            event_row(site.pk, at(11), session=3, visitor=3, country_code="FR", path="/"),
        ]
    )
    french = report(site, country=["FR"])
    assert [o["order_id"] for o in french["orders"]] == ["FR-1"]
    assert (french["summary"]["sessions"], french["summary"]["conversion_rate"]) == (2, 0.5)
    assert french["products"][0]["sku"] == "T"
    assert report(site, country=["!FR"])["summary"]["revenue"] == "10.00"
    everyone = report(site)["summary"]
    assert (everyone["orders"], everyone["conversion_rate"]) == (2, round(2 / 3, 4))


def test_orders_stored_before_the_items_were_normalized_still_read(site):
    """Rows stored by the adapter before: items as the raw JSON (maybe cut at 4,000
    characters), a cart's value as revenue."""
    old_order = order_row(site.pk, at(9), "OLD", 12, None, props={"items": '[["A","A","C",6,2]]'})
    cut = order_row(
        site.pk, at(9, 5), "CUT", 3, None, session=2, props={"items": '[["A","A","C",6,2],["B","B'}
    )
    old_cart = event_row(
        site.pk,
        at(10),
        kind="custom",
        name="Cart Update",
        protocol="matomo",
        session=3,
        revenue_amount="8",
        revenue_currency="",
    )
    store([old_order, cut, old_cart])
    result = report(site)
    assert result["products"] == [
        {
            "sku": "A",
            "name": "A",
            "revenue": "12.00",
            "quantity": 2,
            "orders": 1,
            "average_price": "6.00",
        }
    ]
    assert result["summary"]["abandoned_value"] == "8.00"


def test_other_trackers_events_named_like_orders_are_no_orders(site):
    store(
        [
            event_row(
                site.pk,
                at(9),
                kind="custom",
                name="Ecommerce Order",
                props={"order_id": "X"},
                revenue_amount="5",
                revenue_currency="EUR",
            )
        ]
    )
    assert report(site)["summary"]["orders"] == 0


# --- the items parser ------------------------------------------------------------------------


@hsettings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=6)
                | st.dictionaries(st.text(max_size=5), children, max_size=4)
            ),
            max_leaves=40,
        ).map(json.dumps),
    )
)
def test_any_ec_items_text_stores_valid_json_within_the_limit(text):
    stored = matomo.ecommerce_items(text)
    if stored:
        items = json.loads(stored)
        assert len(stored) <= matomo.ITEMS_LIMIT
        for sku, name, categories, price, quantity in items:
            assert isinstance(sku, str) and sku and isinstance(name, str)
            assert isinstance(categories, list) and len(categories) <= matomo.MAX_CATEGORIES
            Decimal(price)
            assert isinstance(quantity, int) and quantity >= 0
        assert es.parse_items(stored)  # the reader reads every stored item


def test_items_that_do_not_fit_are_left_out_whole():
    items = [[f"SKU-{n}", "x" * 150, ["c" * 150], 1, 1] for n in range(100)]
    stored = matomo.ecommerce_items(json.dumps(items))
    kept = json.loads(stored)
    assert 0 < len(kept) < 100 and kept == [
        [f"SKU-{n}", "x" * 150, ["c" * 150], "1", 1] for n in range(len(kept))
    ]


# --- against a plain reference ---------------------------------------------------------------

ITEM = st.tuples(
    st.sampled_from(["A", "B", "C", "D"]),
    st.sampled_from(["Cat1", "Cat2", ""]),
    st.decimals(min_value=0, max_value=500, places=2),
    st.integers(min_value=0, max_value=5),
)
ORDER = st.tuples(
    st.sampled_from(["o1", "o2", "o3", "o4", "o5", "o6"]),  # few ids: repeated trackings
    st.integers(min_value=0, max_value=3),  # day offset: day 0 is before the range
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=1, max_value=4),  # session
    st.lists(ITEM, max_size=4),
)


@hsettings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(orders=st.lists(ORDER, max_size=12), rolled=st.booleans())
def test_orders_and_products_equal_a_plain_reference(db, orders, rolled):
    site = SiteFactory(timezone="UTC")
    start = date(2026, 3, 1)
    rows, tracked = [], []
    for n, (order_id, offset, hour, session, items) in enumerate(orders):
        when = at(hour, n % 60, start + timedelta(days=offset))
        lines = [[sku, f"name {sku}", cat, str(price), qty] for sku, cat, price, qty in items]
        total = sum((price * qty for _, _, price, qty in items), Decimal(0))
        row = order_row(
            site.pk, when, order_id, total, lines or None, session=session + 10 * offset
        )
        rows.append(row)
        tracked.append((when, row["id"], order_id, total, items))
    store(rows)
    if rolled:
        rollup_pending(datetime(2026, 3, 5, 12, tzinfo=UTC))
    first, last = start + timedelta(days=1), start + timedelta(days=3)
    result = es.ecommerce_report(q.StatsQuery(site.pk, first, last, "UTC"), "EUR", limit=100)

    # The reference: the first tracking of each id (time, then id) counts if in the range.
    kept = {}
    for when, _event_id, order_id, total, items in sorted(tracked, key=lambda t: (t[0], t[1])):
        kept.setdefault(order_id, (when, total, items))
    counted = {k: v for k, v in kept.items() if first <= v[0].date() <= last}
    revenue = sum((v[1] for v in counted.values()), Decimal(0))
    assert result["summary"]["orders"] == len(counted)
    assert result["summary"]["revenue"] == str(revenue.quantize(Decimal("0.01")))
    products = {}
    for order_id, (_, _, items) in counted.items():
        for sku, _, price, qty in items:
            entry = products.setdefault(sku, [Decimal(0), 0, set()])
            entry[0] += price * qty
            entry[1] += qty
            entry[2].add(order_id)
    expected = {
        sku: (
            str(r.quantize(Decimal("0.01"))),
            n,
            len(o),
            str((r / n).quantize(Decimal("0.01"))) if n else None,
        )
        for sku, (r, n, o) in products.items()
    }
    assert {
        p["sku"]: (p["revenue"], p["quantity"], p["orders"], p["average_price"])
        for p in result["products"]
    } == expected
    assert [o["order_id"] for o in result["orders"]] == [
        k for k, _ in sorted(counted.items(), key=lambda kv: kv[1][0], reverse=True)
    ]


# --- API -------------------------------------------------------------------------------------


@pytest.fixture
def shop(site):
    store(
        [
            order_row(site.pk, at(9), "A1", "12.50", [["S1", "Shoe", "Shoes", "12.50", 1]]),
            order_row(site.pk, at(10), "A2", 20, [["S1", "Shoe", "Shoes", 10, 2]], session=2),
            cart_row(site.pk, at(11), 40, [["S2", "Hat", "Hats", 40, 1]], session=3, visitor=3),
        ]
    )


def test_api_answers_the_report_and_the_order_log(client, owner, site, shop):
    response = client.get(
        "/api/v1/ecommerce", {"id": site.public_id, **RANGE}, **bearer(owner, site)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == site.reporting_currency
    assert (body["summary"]["orders"], body["summary"]["revenue"]) == (2, "32.50")
    assert (
        body["summary"]["abandoned_carts"] == 1 and body["abandoned_carts"][0]["value"] == "40.00"
    )
    assert body["products"] == [
        {
            "sku": "S1",
            "name": "Shoe",
            "revenue": "32.50",
            "quantity": 3,
            "orders": 2,
            "average_price": "10.83",
        }
    ]
    log = client.get(
        "/api/v1/ecommerce/orders",
        {"id": site.public_id, **RANGE, "limit": 1, "page": 2},
        **bearer(owner, site),
    ).json()
    assert (log["total"], log["page"], [o["order_id"] for o in log["orders"]]) == (2, 2, ["A1"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-03-02"}, "from"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"page": "-1"}, "page"),
        ({"pattern": "("}, "pattern"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_api_refuses_bad_parameters_in_pirschs_shape(client, owner, site, params, field):
    paths = ("/api/v1/ecommerce/orders",) if "page" in params else PATHS
    for path in paths:
        response = client.get(
            path, {"id": site.public_id, **RANGE, **params}, **bearer(owner, site)
        )
        assert response.status_code == 400, (path, params)
        assert set(response.json()) <= PIRSCH_KEYS and field in response.json()["validation"]


def test_api_never_shows_another_tenants_shop(client, site, shop):
    stranger = UserFactory()
    other = SiteFactory()
    SiteMembershipFactory(site=other, user=stranger, role="owner")
    for path in ("/api/v1/ecommerce", "/api/v1/ecommerce/orders"):
        response = client.get(path, {"id": site.public_id, **RANGE}, **bearer(stranger))
        assert response.status_code == 404 and response.json()["error"] == ["domain not found"]
        assert client.get(path, {"id": site.public_id, **RANGE}).status_code == 401
        assert client.post(path, {"id": site.public_id}, **bearer(stranger)).status_code == 405


# --- the dashboard page ----------------------------------------------------------------------


def test_members_see_the_ecommerce_page(client, owner, site, shop):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    client.force_login(viewer)
    response = client.get(f"/sites/{site.public_id}/ecommerce", {"period": "custom", **RANGE})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="orders"' in html and "32.50" in html and "A2" in html and "Hat" in html
    assert 'aria-current="page">Ecommerce' in html


def test_the_page_explains_an_empty_period(client, owner, site):
    client.force_login(owner)
    html = client.get(f"/sites/{site.public_id}/ecommerce").content.decode()
    assert 'data-empty-reason="no_ecommerce"' in html and "trackEcommerceOrder" in html


def test_only_members_see_the_page(client, site, shop):
    url = f"/sites/{site.public_id}/ecommerce"
    assert client.get(url).status_code == 302  # to log in
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_the_order_log_pages(client, owner, site):
    store([order_row(site.pk, at(9, n), f"N{n:02d}", 1, None, session=n) for n in range(30)])
    client.force_login(owner)
    url = f"/sites/{site.public_id}/ecommerce"
    second = client.get(url, {"period": "custom", **RANGE, "page": "2"}).content.decode()
    assert "N04" in second and "N05" not in second and "Page 2 of 2" in second
    assert client.get(url, {"page": "x" * 50}).status_code == 200


def test_reading_uses_few_queries(django_assert_max_num_queries, site, shop):
    with django_assert_max_num_queries(12):
        report(site)
    assert Event.objects.filter(site=site).count() == 3


# --- product views and the previous period ---------------------------------------------------


def view_row(site_id, when, sku, name, *, session=1, visitor=1, **fields):
    """A product page view as the Matomo adapter stores ``setEcommerceView``."""
    props = {"product_sku": sku, "product_name": name, "product_price": "10.00"}
    return event_row(
        site_id,
        when,
        protocol="matomo",
        path=f"/p/{sku}",
        props=props,
        session=session,
        visitor=visitor,
        **fields,
    )


def test_product_views_and_their_purchase_rate(site):
    """S1 is viewed in sessions 1 (which orders it), 2 (twice, orders only S2) and 3 (no
    order); S2 once in session 2 under an older and a newer name; a plain page view and an
    order of an unviewed SKU add nothing."""
    store(
        [
            view_row(site.pk, at(9), "S1", "Shoe", country_code="DE"),
            view_row(site.pk, at(9, 5), "S1", "Shoe", session=2, country_code="GB"),
            view_row(site.pk, at(9, 6), "S1", "Shoe", session=2, country_code="GB"),
            view_row(site.pk, at(9, 7), "S2", "Old hat", session=2, country_code="GB"),
            view_row(site.pk, at(9, 8), "S2", "Hat", session=2, country_code="GB"),
            view_row(site.pk, at(9, 9), "S1", "Shoe", session=3, country_code="DE"),
            event_row(site.pk, at(9, 10), path="/about"),
            order_row(site.pk, at(9, 30), "A1", 10, [["S1", "Shoe", "Shoes", 10, 1]]),
            order_row(
                site.pk,
                at(9, 40),
                "A2",
                30,
                [["S2", "Hat", "Hats", 20, 1], ["S9", "Sock", "", 10, 1]],
                session=2,
            ),
        ]
    )
    assert report(site)["product_views"] == [
        {
            "sku": "S1",
            "name": "Shoe",
            "views": 4,
            "sessions": 3,
            "purchasing_sessions": 1,
            "view_to_purchase": 0.3333,
        },
        {
            "sku": "S2",
            "name": "Hat",
            "views": 2,
            "sessions": 1,
            "purchasing_sessions": 1,
            "view_to_purchase": 1.0,
        },
    ]
    # A session filter keeps the German sessions' views (1 and 3) only.
    assert [
        (r["sku"], r["views"], r["sessions"]) for r in report(site, country=["DE"])["product_views"]
    ] == [("S1", 2, 2)]


@pytest.mark.parametrize("rolled", [False, True])
def test_product_views_read_rolled_up_days_alike(site, rolled):
    store([view_row(site.pk, at(9, n), f"S{n % 3}", "P", session=n) for n in range(7)])
    if rolled:
        rollup_pending(at(6, day=DAY + timedelta(days=1)))
    rows = report(site)["product_views"]
    assert [(r["sku"], r["views"], r["sessions"]) for r in rows] == [
        ("S0", 3, 3),
        ("S1", 2, 2),
        ("S2", 2, 2),
    ]


def test_the_previous_period_in_the_api_and_on_the_page(client, owner, site, shop):
    before = DAY - timedelta(days=1)
    store([order_row(site.pk, at(9, day=before), "P1", 5, None, session=7, visitor=7)])
    response = client.get(
        "/api/v1/ecommerce",
        {"id": site.public_id, **RANGE, "compare": "previous"},
        **bearer(owner, site),
    )
    assert response.status_code == 200
    previous = response.json()["previous"]
    assert (previous["from"], previous["to"]) == (before.isoformat(), before.isoformat())
    assert previous["summary"] == {
        "orders": 1,
        "sessions": 1,
        "converting_sessions": 1,
        "conversion_rate": 1.0,
        "revenue": "5.00",
        "average_order_value": "5.00",
        "items": 0,
        "cart_updates": 0,
        "abandoned_carts": 0,
        "abandoned_value": "0.00",
    }
    plain = client.get("/api/v1/ecommerce", {"id": site.public_id, **RANGE}, **bearer(owner, site))
    assert "previous" not in plain.json()
    bad = client.get(
        "/api/v1/ecommerce",
        {"id": site.public_id, **RANGE, "compare": "yesterday"},
        **bearer(owner, site),
    )
    assert bad.status_code == 400 and "compare" in bad.json()["validation"]

    client.force_login(owner)
    html = client.get(
        f"/sites/{site.public_id}/ecommerce", {"period": "custom", **RANGE, "compare": "previous"}
    ).content.decode()
    assert 'data-previous="revenue"' in html and "5.00 " in html
    assert "Hide the comparison" in html
