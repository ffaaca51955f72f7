"""Plausible's Stats API (v1 and v2) and Sites API on Footfall's query layer (issue #19).

Django REST framework views; Bearer keys of the ``plausible`` client type (scopes ``stats``
and ``sites``); answers and errors (``{"error": "..."}``) in Plausible's documented shapes.
docs/api.md, "Plausible API compatibility".
"""
