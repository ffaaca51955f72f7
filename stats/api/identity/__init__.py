"""The identity-js-style visitor API (``sk_live_`` read keys, GET only, JSON).

Every endpoint is a function ``(request, ctx) -> dict`` wrapped by ``identity_endpoint``,
which authenticates the key, counts the rate limit (60/min per key), parses the date
range and pagination, and turns errors into ``{"error": {"status", "message", "code"}}``.
Adding an endpoint is a function and a URL line in ``urls.py``.
"""
