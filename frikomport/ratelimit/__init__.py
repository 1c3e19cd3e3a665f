"""Rate limits whose counters all workers share: a ``limits`` storage on the database."""
