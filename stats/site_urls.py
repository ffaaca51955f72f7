"""Routes of ``stats.site_views`` (paths under the sites app's, names unchanged)."""

from django.urls import path

from sites import matomo_api
from stats import site_views

urlpatterns = [
    # ``/?module=API…`` is Matomo's Reporting API (its log importer calls it there).
    path("", matomo_api.or_api(site_views.site_list), name="site_list"),
    path("sites/<str:public_id>/settings/danger/reset", site_views.site_reset, name="site_reset"),
]
