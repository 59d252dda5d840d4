"""The event log: event types, codec, the append-only SQLite store and its projections."""
