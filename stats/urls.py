"""The site dashboard, included at ``sites/<public_id>/`` (only these sub-paths match, so
``sites/new`` and ``sites/<public_id>/settings/…`` fall through to ``sites.urls``)."""

from django.urls import path

from stats import ecommerce_views, funnel_views, import_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("panels/<str:panel_name>", views.panel, name="dashboard_panel"),
    path("panels/<str:panel_name>/details", views.panel_details, name="dashboard_panel_details"),
    path("live", views.live, name="dashboard_live"),
    path("live/data", views.live_data, name="dashboard_live_data"),
    path("live/badge", views.live_badge, name="dashboard_live_badge"),
    path("export.csv", views.export_csv, name="dashboard_export"),
    # Imports and exports (issue #16), under the site's settings
    path("settings/imports", import_views.imports_page, name="site_imports"),
    path("settings/imports/progress", import_views.imports_progress, name="site_imports_progress"),
    path("settings/imports/export", import_views.plausible_export, name="site_plausible_export"),
    path(
        "settings/imports/<str:import_id>/cancel",
        import_views.import_cancel,
        name="site_import_cancel",
    ),
    path(
        "settings/imports/<str:import_id>/delete",
        import_views.import_delete,
        name="site_import_delete",
    ),
    # Funnels (issue #15)
    path("funnels", funnel_views.funnels_index, name="funnels"),
    path("funnels/new", funnel_views.funnel_new, name="funnel_new"),
    path("funnels/<str:funnel_id>", funnel_views.funnel_detail, name="funnel_detail"),
    path("funnels/<str:funnel_id>/edit", funnel_views.funnel_edit, name="funnel_edit"),
    path("funnels/<str:funnel_id>/delete", funnel_views.funnel_remove, name="funnel_delete"),
    path("funnels/<str:funnel_id>/dropped", funnel_views.funnel_dropped, name="funnel_dropped"),
    # Ecommerce (issue #15)
    path("ecommerce", ecommerce_views.ecommerce, name="ecommerce"),
    path(
        "sessions/<str:visitor_id>/<str:session_id>",
        funnel_views.session_detail,
        name="session_detail",
    ),
]
