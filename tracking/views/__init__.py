"""Thin ingestion views, one module per protocol: parse, ``ingest.accept``, answer."""
