"""Ferry's core: the migration itself (lifecycle, pipeline, mapping, rate limiting, ports)."""
