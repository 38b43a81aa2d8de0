"""audit: the append-only, hash-chained audit log."""
