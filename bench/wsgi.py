"""The benchmark's WSGI app: the product, plus ``/bench/bare``, a do-nothing Django view
served WITHOUT middleware (issue #18's baseline).

``/bench/bare`` parses the JSON body and answers 202 through Django's own request and
response classes, but skips the URL resolver and every middleware. Everything else goes
to the product's ``analytics_project.wsgi.application`` unchanged, on the same server and
worker settings, so the two are compared side by side.
"""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse

from analytics_project.wsgi import application as product

BARE_PATH = "/bench/bare"


def bare_view(request: WSGIRequest) -> HttpResponse:
    json.loads(request.body or b"{}")
    return HttpResponse(b"{}", status=202, content_type="application/json")


def application(environ, start_response):
    if environ.get("PATH_INFO") != BARE_PATH:
        return product(environ, start_response)
    response = bare_view(WSGIRequest(environ))
    status = f"{response.status_code} {response.reason_phrase}"
    start_response(
        status,
        [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
        ],
    )
    return response
