"""Footfall's own management API, ``/api/manage/v1/`` (issue #19; docs/api.md, "Management
API"): funnels, reports, alerts, webhooks, API clients and imports in Footfall's terms,
for what Plausible's Sites API cannot express.

DRF viewsets over the same services as the dashboard, with the dashboard's roles: Owners
and Admins write, Viewers read what the dashboard shows them. Callers are the dashboard
session or an account-level ``pl_`` key with the ``sites`` scope (acting with its
creator's current role, ``PLAUSIBLE_API_RATE_LIMIT`` requests an hour). Every refusal is
``{"error": {"code", "message", "fields"}}``; another account's site is a 404 like a
missing one.
"""
