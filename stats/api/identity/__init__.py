"""The identity-js-style visitor API (``sk_live_`` read keys, GET only, JSON).

Every endpoint is a Django REST framework view on ``drf.IdentityView``, which
authenticates the key, counts the rate limit (60/min per key), checks the site, parses the
date range and pagination, and answers errors as ``{"error": {"status", "message",
"code"}}``. Adding an endpoint is a view (its ``extend_schema`` describes it in the
generated OpenAPI document) and a URL line in ``urls.py``.
"""
