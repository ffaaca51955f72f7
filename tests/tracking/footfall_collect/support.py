"""What the collection endpoint tests share: the page, a browser and the request helpers."""

import json

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
PAGE = "https://dummy.site/blog/post?utm_source=news"


def body(site, *events, **fields):
    return {
        "k": site.public_key,
        "u": PAGE,
        "r": "https://www.google.com/",
        "t": "A post",
        "w": 1280,
        "e": list(events),
        **fields,
    }


def post(client, data, *, content_type="text/plain", ua=CHROME, **headers):
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(
        "/api/collect", data=raw, content_type=content_type, HTTP_USER_AGENT=ua, **headers
    )
