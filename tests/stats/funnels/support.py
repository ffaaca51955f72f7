"""What the funnel tests share: the day, the steps, the traffic and credentials."""

from datetime import UTC, datetime
from decimal import Decimal

from accounts.services import api_client_create, oauth_token_issue
from tests.helpers import event_row, store

PIRSCH_KEYS = {"validation", "error", "context"}
RANGE = {"from": "2026-03-02", "to": "2026-03-02"}
STEPS = [
    {"alternatives": [{"type": "page", "path": "/pricing"}]},
    {"alternatives": [{"type": "event", "name": "Signup"}]},
    {"alternatives": [{"type": "page", "path": "/checkout"}, {"type": "page", "path": "/cart"}]},
]


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=UTC)


def bearer(user, site=None, scopes=None) -> dict:
    client, _ = api_client_create(user=user, type="oauth", site=site, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {oauth_token_issue(client=client)[0]}"}


def store_traffic(site) -> None:
    """Visitor 1 (DE) goes /pricing → Signup (10 EUR) → /checkout; visitor 2 (GB) /pricing →
    /cart without signing up; visitor 3 (DE) /pricing → Signup after 30 minutes; visitor 4
    signs up without seeing /pricing."""
    one = {"visitor": 1, "session": 11, "country_code": "DE"}
    two = {"visitor": 2, "session": 21, "country_code": "GB"}
    three = {"visitor": 3, "session": 31, "country_code": "DE"}
    four = {"visitor": 4, "session": 41, "country_code": "DE"}
    store(
        [
            event_row(site.pk, at(9), path="/", **one),
            event_row(site.pk, at(9, 2), path="/pricing", **one),
            event_row(
                site.pk,
                at(9, 3, 30),
                kind="custom",
                name="Signup",
                path="/pricing",
                revenue_amount=Decimal("10.00"),
                revenue_currency="EUR",
                **one,
            ),
            event_row(site.pk, at(9, 10), path="/checkout", **one),
            event_row(site.pk, at(10), path="/pricing", **two),
            event_row(site.pk, at(10, 5), path="/cart", **two),
            event_row(site.pk, at(11), path="/pricing", **three),
            event_row(site.pk, at(11, 30), kind="custom", name="Signup", path="/", **three),
            event_row(site.pk, at(12), kind="custom", name="Signup", path="/", **four),
        ]
    )


RANGE_QS = "period=custom&from=2026-03-02&to=2026-03-02"
