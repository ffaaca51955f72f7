"""Daily aggregates rolled up from raw events (built by the statistics work)."""
