"""The product's URLs plus ``/bench/noop``: parse a JSON body, answer 202 (the baseline)."""

import json

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from analytics_project.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def noop(request):
    json.loads(request.body or b"{}")
    return HttpResponse(b"{}", status=202, content_type="application/json")


urlpatterns = [path("bench/noop", noop), *product_urlpatterns]
