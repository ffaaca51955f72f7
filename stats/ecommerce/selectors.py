"""Ecommerce reads (issue #15): Matomo's orders, items and carts, derived from stored events.

Nothing is pre-aggregated (docs/ecommerce.md, "Storage"): the Matomo adapter stores an
order as a custom event ``Ecommerce Order`` (props ``order_id``, ``subtotal``, ``tax``,
``shipping``, ``discount``, ``items``; the grand total as its revenue) and a cart update as
``Cart Update`` (props ``cart_total``, ``items``). A report reads them in three steps:

1. **the candidates**: the ids of the range's order and cart events that pass the query's
   filters, from the one query layer (``stats.query.event_sets``: rolled-up events for
   covered days, raw ones for the rest), so every dashboard filter applies as elsewhere
   (session attributes are the session's);
2. **dedup**: an order id counts once per site, for its first tracking (by time, then event
   id), as Matomo keeps one conversion per ``(idsite, idorder)``; a later tracking of the
   same id is ignored, also when the first one was before the range. On PostgreSQL a partial
   index on ``(site_id, props->>'order_id')`` of order events answers this (``stats``
   migration ``0011``);
3. **the details**: amounts, items and sessions from the raw rows (orders are few).

Steps 1–3 are one query (``_rows``): the raw rows semi-joined to the filtered candidates,
with the dedup as an ``EXISTS`` on the order-id index; partial indexes on the order, cart
and product-view events (migration ``0014``) find them among the range's page views.

A cart is **abandoned** when its session placed no order (any order event of the session
in the range, deduplicated or not); its value and items are the session's last cart update.

Amounts are in the site's reporting currency: an order's ``revenue_reporting`` (converted
at ingest, ``tracking.pipeline.revenue``; Matomo sends no currency code, so its amounts are
the site's currency already), its sub-amounts and item prices scaled by the same rate. An
order whose amount could not be converted is counted, its revenue left out and reported
as ``revenue_unconverted``. A cart's ``cart_total`` is read as sent (the site's currency).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import CharField, Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform

from stats import filter_values
from stats import query as q
from stats.selectors import public_session_id, public_visitor_id
from tracking.models import Event
from tracking.protocols.matomo import CART_EVENT, ORDER_EVENT

CHUNK = 2000
CENT = Decimal("0.01")
ZERO = Decimal(0)
PROTOCOL = "matomo"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    categories: tuple[str, ...]
    price: Decimal  # per unit, reporting currency
    quantity: int

    @property
    def revenue(self) -> Decimal:
        return self.price * self.quantity


@dataclass
class Order:
    event_id: uuid.UUID
    order_id: str
    at: datetime
    session_id: int
    visitor_id: int
    revenue: Decimal | None  # the grand total in the reporting currency; None: unconverted
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    shipping: Decimal | None = None
    discount: Decimal | None = None
    items: list[Item] = field(default_factory=list)


@dataclass
class Cart:
    event_id: uuid.UUID
    at: datetime
    session_id: int
    visitor_id: int
    value: Decimal | None
    items_text: str = ""  # as stored: parsed only for the carts shown (abandoned ones)

    @property
    def items(self) -> list[Item]:
        return parse_items(self.items_text)


# --- parsing stored props (tolerant: rows stored before the adapter normalized them too) ----


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < Decimal("1e14") else None


def parse_items(text, factor: Decimal = Decimal(1)) -> list[Item]:
    """Stored items (``[[sku, name, [categories] | category, price, quantity], …]`` as JSON
    text) → ``Item``s, prices times ``factor``; anything unreadable is no item."""
    if not isinstance(text, str) or not text:
        return []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    items = []
    for raw in data if isinstance(data, list) else ():
        if not isinstance(raw, list) or not raw or not isinstance(raw[0], str | int | float):
            continue
        sku, name, category, price, quantity = (list(raw) + [None] * 5)[:5]
        categories = category if isinstance(category, list) else [category]
        count = _decimal(quantity)
        items.append(
            Item(
                str(sku),
                str(name) if isinstance(name, str | int | float) else "",
                tuple(str(c) for c in categories if isinstance(c, str | int | float) and c != ""),
                (_decimal(price) or ZERO) * factor,
                int(count) if count is not None else 1,
            )
        )
    return items


def _converted(row: dict) -> tuple[Decimal | None, Decimal]:
    """(the grand total in the reporting currency or None, the factor for its parts)."""
    amount, reporting = row["revenue_amount"], row["revenue_reporting"]
    if reporting is not None and row["revenue_reporting_currency"]:
        return reporting, (reporting / amount if amount else Decimal(1))
    return None, Decimal(1)


# --- the candidates and dedup -------------------------------------------------------------

NAMES = (ORDER_EVENT, CART_EVENT)
COLUMNS = (
    "id",
    "name",
    "timestamp",
    "session_id",
    "visitor_id",
    "props",
    "revenue_amount",
    "revenue_currency",
    "revenue_reporting",
    "revenue_reporting_currency",
)


def _order_key() -> RawSQL:
    """An order event's ``order_id`` as text: on PostgreSQL the expression of the partial
    index ``event_ecommerce_order`` (stats migration 0011), so the index answers."""
    if connection.vendor == "postgresql":
        return RawSQL("(props ->> 'order_id')", (), output_field=CharField())
    return RawSQL("json_extract(props, '$.order_id')", (), output_field=CharField())


def _rows(query: q.StatsQuery) -> QuerySet:
    """The range's Matomo order and cart events that pass the query's filters, with their
    amounts and items, in one read: the raw rows (the only ones with the original amounts
    and the protocol), found by the partial index of those events (stats migration 0014);
    with filters, semi-joined to the filtered candidates of the query layer (rolled-up
    events for covered days, raw ones for the rest: session attributes are the session's). ``repeated``: an earlier tracking of the same order id on
    the site exists (by time, then event id; any time, also before the range), looked up on
    the partial index of order ids (migration 0011)."""
    candidates = Q()  # without filters: every such event of the range
    if query.filters:
        candidates = Q(pk__in=[])
        for part in q.event_sets(query):
            candidates |= Q(
                id__in=part.filter(kind="custom", name__in=NAMES).order_by().values("id")
            )
    earlier = (
        Event.objects.filter(
            site_id=OuterRef("site_id"), kind="custom", name=ORDER_EVENT, protocol=PROTOCOL
        )
        .annotate(order_key=_order_key())
        .filter(order_key=OuterRef("outer_key"))
        .filter(
            Q(timestamp__lt=OuterRef("timestamp"))
            | Q(timestamp=OuterRef("timestamp"), id__lt=OuterRef("id"))
        )
    )
    return (
        Event.objects.filter(
            site_id=query.site_id,
            protocol=PROTOCOL,
            kind="custom",
            name__in=NAMES,
            timestamp__gte=query.start,
            timestamp__lt=query.end,
        )
        .filter(candidates)
        # Qualified by Django (``_order_key``'s bare ``props`` would name the inner row's).
        .annotate(outer_key=KeyTextTransform("order_id", "props"))
        .annotate(repeated=Exists(earlier))
        .order_by()
        .values(*COLUMNS, "repeated")
    )


@dataclass
class Ecommerce:
    """A range's deduplicated orders (newest first) and its cart updates."""

    orders: list[Order]
    carts: list[Cart]
    duplicates: int  # order events in the range left out as repeated trackings
    unconverted: int  # orders whose revenue could not be converted


def ecommerce_events(query: q.StatsQuery) -> Ecommerce:
    orders: list[Order] = []
    carts: list[Cart] = []
    repeated = 0
    for row in _rows(query).iterator(CHUNK):
        props = row["props"] if isinstance(row["props"], dict) else {}
        revenue, factor = _converted(row)
        if row["name"] == ORDER_EVENT:
            order_id = props.get("order_id")
            if not isinstance(order_id, str) or not order_id:
                continue
            if row["repeated"]:  # a later tracking of a counted order id: ignored
                repeated += 1
                continue
            orders.append(
                Order(
                    row["id"],
                    order_id,
                    row["timestamp"],
                    row["session_id"],
                    row["visitor_id"],
                    revenue,
                    *(
                        (v * factor if (v := _decimal(props.get(key))) is not None else None)
                        for key in ("subtotal", "tax", "shipping", "discount")
                    ),
                    items=parse_items(props.get("items"), factor),
                )
            )
        else:
            value = _decimal(props.get("cart_total"))
            if value is None:  # stored before the adapter kept it apart from revenue
                value = revenue
            carts.append(
                Cart(
                    row["id"],
                    row["timestamp"],
                    row["session_id"],
                    row["visitor_id"],
                    value,
                    props.get("items") if isinstance(props.get("items"), str) else "",
                )
            )
    orders.sort(key=lambda o: (o.at, str(o.event_id)), reverse=True)
    return Ecommerce(orders, carts, repeated, sum(1 for o in orders if o.revenue is None))


# --- reports --------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def abandoned_carts(query: q.StatsQuery, data: Ecommerce) -> list[Cart]:
    """Each session's last cart update, for sessions that placed no order (newest first)."""
    last: dict[int, Cart] = {}
    for cart in data.carts:
        current = last.get(cart.session_id)
        if current is None or (cart.at, str(cart.event_id)) > (current.at, str(current.event_id)):
            last[cart.session_id] = cart
    if not last:
        return []
    # The sessions of the range's order events (one read: the partial index of order events
    # holds the site's orders only, a few next to its page views).
    ordered = set(
        Event.objects.filter(
            site_id=query.site_id,
            kind="custom",
            name=ORDER_EVENT,
            timestamp__gte=query.start,
            timestamp__lt=query.end,
        ).values_list("session_id", flat=True)
    )
    carts = [cart for session, cart in last.items() if session not in ordered]
    carts.sort(key=lambda c: (c.at, str(c.event_id)), reverse=True)
    return carts


def _product_rows(orders: list[Order], key) -> list[dict]:
    """Per product (``key``: item → grouping values): revenue, quantity, orders, average
    price (revenue per unit), ordered by revenue then quantity."""
    rows: dict[tuple, dict] = {}
    for order in orders:
        for item in order.items:
            for group in key(item):
                row = rows.setdefault(
                    group, {"revenue": ZERO, "quantity": 0, "orders": set(), "names": {}}
                )
                row["revenue"] += item.revenue
                row["quantity"] += item.quantity
                row["orders"].add(order.order_id)
                row["names"][item.name] = order.at  # the latest name a SKU was sold under
    result = []
    for group, row in rows.items():
        result.append(
            {
                "group": group,
                "name": max(row["names"].items(), key=lambda kv: (kv[1], kv[0]))[0],
                "revenue": row["revenue"],
                "quantity": row["quantity"],
                "orders": len(row["orders"]),
                "average_price": row["revenue"] / row["quantity"] if row["quantity"] else None,
            }
        )
    result.sort(key=lambda r: (-r["revenue"], -r["quantity"], r["group"]))
    return result


def products(orders: list[Order]) -> list[dict]:
    """Products by SKU (the name is the latest one the SKU was ordered under)."""
    return [
        {
            "sku": row["group"][0],
            "name": row["name"],
            "revenue": _money(row["revenue"]),
            "quantity": row["quantity"],
            "orders": row["orders"],
            "average_price": _money(row["average_price"]),
        }
        for row in _product_rows(orders, lambda item: [(item.sku,)])
    ]


def categories(orders: list[Order]) -> list[dict]:
    """Product categories: an item counts under each of its (up to five) categories, as in
    Matomo, so the rows may add up to more than the total; items without one are
    "(none)"."""
    return [
        {
            "category": row["group"][0],
            "revenue": _money(row["revenue"]),
            "quantity": row["quantity"],
            "orders": row["orders"],
            "average_price": _money(row["average_price"]),
        }
        for row in _product_rows(orders, lambda item: [(c,) for c in item.categories or ("",)])
    ]


def order_json(order: Order) -> dict:

    return {
        "order_id": order.order_id,
        "time": order.at.isoformat(),
        "visitor_id": public_visitor_id(order.visitor_id),
        "session_id": public_session_id(order.session_id),
        "revenue": _money(order.revenue),
        "subtotal": _money(order.subtotal),
        "tax": _money(order.tax),
        "shipping": _money(order.shipping),
        "discount": _money(order.discount),
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "categories": list(item.categories),
                "price": _money(item.price),
                "quantity": item.quantity,
            }
            for item in order.items
        ],
    }


def cart_json(cart: Cart) -> dict:

    return {
        "time": cart.at.isoformat(),
        "visitor_id": public_visitor_id(cart.visitor_id),
        "session_id": public_session_id(cart.session_id),
        "value": _money(cart.value),
        "items": [
            {"sku": i.sku, "name": i.name, "price": _money(i.price), "quantity": i.quantity}
            for i in cart.items
        ],
    }


def summary(query: q.StatsQuery, data: Ecommerce, abandoned: list[Cart]) -> dict:
    """Orders, conversion rate (sessions with a counted order / the range's sessions under
    the same filters), revenue, average order value, abandoned carts."""
    sessions = q.totals(query)["sessions"]
    revenue = sum((o.revenue for o in data.orders if o.revenue is not None), ZERO)
    counted = len(data.orders) - data.unconverted
    converting = len({o.session_id for o in data.orders})
    return {
        "orders": len(data.orders),
        "sessions": sessions,
        "converting_sessions": converting,
        "conversion_rate": _ratio(converting, sessions),
        "revenue": _money(revenue),
        "average_order_value": _money(revenue / counted) if counted else None,
        "items": sum(i.quantity for o in data.orders for i in o.items),
        "subtotal": _money(_sum(o.subtotal for o in data.orders)),
        "tax": _money(_sum(o.tax for o in data.orders)),
        "shipping": _money(_sum(o.shipping for o in data.orders)),
        "discount": _money(_sum(o.discount for o in data.orders)),
        "cart_updates": len(data.carts),
        "abandoned_carts": len(abandoned),
        "abandoned_value": _money(_sum(c.value for c in abandoned) or ZERO),
        "duplicate_orders": data.duplicates,
        "revenue_unconverted": data.unconverted,
    }


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, ZERO) if present else None


@dataclass
class ProductViews:
    """One SKU's product page views (Matomo's ``setEcommerceView``: page views with
    ``product_sku``) in the range."""

    views: int = 0
    sessions: set[int] = field(default_factory=set)
    names: dict[str, datetime] = field(default_factory=dict)  # name → last seen


def _views_per_sku(views: QuerySet) -> Iterable[tuple[str, int, Iterable[int]]]:
    """(SKU, views, its sessions): on PostgreSQL one row per SKU with its sessions as an
    array (a month of product views is tens of thousands of (SKU, session) pairs)."""
    if connection.vendor == "postgresql":
        return views.values_list("product_sku").annotate(
            n=Count("id"), sessions=ArrayAgg("session_id", distinct=True)
        )
    per_session = views.values_list("product_sku", "session_id").annotate(n=Count("id"))
    return ((sku, count, (session,)) for sku, session, count in per_session)


def _product_views(query: q.StatsQuery) -> dict[str, ProductViews]:
    """Per SKU, the range's product page views that pass the filters (both parts), counted
    per SKU (and per name) in the database (a partial index of product views,
    migration 0014, finds them among the range's page views)."""
    viewed: dict[str, ProductViews] = {}
    for events in q.event_sets(query):
        views = (
            events.filter(kind="pageview")
            .annotate(
                product_sku=filter_values.json_key_column("meta_product_sku"),
                product_name=filter_values.json_key_column("meta_product_name"),
            )
            .filter(product_sku__isnull=False)
            .exclude(product_sku="")
            .order_by()
        )
        for sku, count, sessions in _views_per_sku(views):
            entry = viewed.setdefault(sku, ProductViews())
            entry.views += count
            entry.sessions.update(sessions)
        named = views.exclude(product_name__isnull=True).exclude(product_name="")
        for sku, name, at in named.values_list("product_sku", "product_name").annotate(
            last=Max("timestamp")
        ):
            entry = viewed[sku]
            if name not in entry.names or entry.names[name] < at:
                entry.names[name] = at
    return viewed


def product_views(query: q.StatsQuery, orders: list[Order]) -> list[dict]:
    """Per viewed SKU: product page views, the sessions with one, how many of those sessions
    placed a counted order holding the SKU, and that share (``view_to_purchase``); by views,
    then SKU. The name is the latest one the product page showed."""
    bought: dict[str, set[int]] = {}
    for order in orders:
        for item in order.items:
            bought.setdefault(item.sku, set()).add(order.session_id)
    rows = []
    for sku, entry in _product_views(query).items():
        purchasing = len(entry.sessions & bought.get(sku, set()))
        rows.append(
            {
                "sku": sku,
                "name": max(entry.names.items(), key=lambda kv: (kv[1], kv[0]))[0]
                if entry.names
                else "",
                "views": entry.views,
                "sessions": len(entry.sessions),
                "purchasing_sessions": purchasing,
                "view_to_purchase": _ratio(purchasing, len(entry.sessions)),
            }
        )
    rows.sort(key=lambda r: (-r["views"], r["sku"]))
    return rows


# The summary fields the previous period repeats (``compare``).
COMPARED_FIELDS = (
    "orders",
    "sessions",
    "converting_sessions",
    "conversion_rate",
    "revenue",
    "average_order_value",
    "items",
    "cart_updates",
    "abandoned_carts",
    "abandoned_value",
)


def previous_summary(query: q.StatsQuery) -> dict:
    """The summary of the period of equal length just before the query's (``compare``)."""
    previous = query.previous()
    data = ecommerce_events(previous)
    full = summary(previous, data, abandoned_carts(previous, data))
    return {
        "from": previous.first_day.isoformat(),
        "to": previous.last_day.isoformat(),
        "summary": {key: full[key] for key in COMPARED_FIELDS},
    }


def ecommerce_report(
    query: q.StatsQuery, currency: str, *, limit: int = 20, compare: bool = False
) -> dict:
    """Everything the dashboard page shows, from one read of the range's events (and, with
    ``compare``, the previous period's summary under ``previous``)."""
    data = ecommerce_events(query)
    abandoned = abandoned_carts(query, data)
    report = {
        "from": query.first_day.isoformat(),
        "to": query.last_day.isoformat(),
        "tz": query.tz,
        "currency": currency,
        "filters": query.filters,
        "summary": summary(query, data, abandoned),
        "products": products(data.orders)[:limit],
        "product_views": product_views(query, data.orders)[:limit],
        "categories": categories(data.orders)[:limit],
        "abandoned_carts": [cart_json(c) for c in abandoned[:limit]],
        "orders": [order_json(o) for o in data.orders[:limit]],
    }
    if compare:
        report["previous"] = previous_summary(query)
    return report


def order_log(query: q.StatsQuery, *, page: int = 1, limit: int = DEFAULT_LIMIT) -> dict:
    """The counted orders, newest first, ``limit`` per page (1-based)."""
    orders = ecommerce_events(query).orders
    chunk = orders[(page - 1) * limit : page * limit]
    return {
        "total": len(orders),
        "page": page,
        "limit": limit,
        "orders": [order_json(o) for o in chunk],
    }
