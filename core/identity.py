"""Deterministic destination ids: the same source record always gets the same id.

The id is a UUIDv5 of the migration's namespace UUID and `<entity>:<source key>`. A rerun, a
resend after an unknown outcome or a crash-resume therefore writes to the same id, so the
destination's primary key makes a duplicate impossible. Version 5 passes Twenty's id check
(UUID versions 1-5 only).
"""

from __future__ import annotations

import uuid

__all__ = ["destination_id", "new_namespace"]


def destination_id(namespace: uuid.UUID | str, entity: str, source_key: str) -> str:
    """The destination id of one source record, as a lower-case UUID string.

    Raises:
        ValueError: the namespace is not a UUID, or the entity or key is empty.
    """
    if not entity or not source_key:
        raise ValueError("destination_id needs a non-empty entity and source key")
    space = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(namespace)
    return str(uuid.uuid5(space, f"{entity}:{source_key}"))


def new_namespace() -> uuid.UUID:
    """A fresh random namespace for a new migration (stored once, in its config)."""
    return uuid.uuid4()
