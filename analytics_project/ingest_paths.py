"""The ingestion endpoints' path prefixes, in one place.

Read by the settings (no Content-Security-Policy on them: they answer JSON, GIFs or scripts
for other sites) and by the access log (their lines never carry a query string). Plain
data: gunicorn's logger loads this before Django is set up.
"""

INGESTION_PREFIXES = (
    "/api/event",
    "/api/collect",
    "/api/v1/hit",
    "/api/v1/event",
    "/api/v1/session",
    "/matomo.php",
    "/piwik.php",
    "/log",
    "/js/",
)
