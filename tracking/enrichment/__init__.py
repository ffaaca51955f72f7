"""Pure, cached enrichment steps of the ingestion hot path (no ORM, no network)."""
