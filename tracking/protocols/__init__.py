"""Protocol adapters: turn a request's payload into ``Hit`` objects, and results into answers."""
