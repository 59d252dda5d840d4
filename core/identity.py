"""Deterministic destination ids: the same source record always gets the same id.

The id is a UUIDv5 of the migration's namespace UUID and `<entity>:<source key>`. A rerun, a
resend after an unknown outcome or a crash-resume therefore writes to the same id, so the
destination's primary key makes a duplicate impossible. Version 5 passes Twenty's id check
(UUID versions 1-5 only).

`IdSpace` computes the ids of one namespace at transform speed: `uuid.uuid5` hashes the
namespace's 16 bytes again for every record and builds a UUID object only to print it; here
the SHA-1 state after the namespace is computed once and copied per record, and the string is
written straight from the digest (version 5, RFC 4122 variant), exactly as
`str(uuid.uuid5(namespace, name))` writes it (tests/mapping/test_identifiers.py compares them).
"""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["IdSpace", "destination_id", "new_namespace"]

# The RFC 4122 variant (10xx) in the 17th hex digit, from the digest's digit there.
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


class IdSpace:
    """The destination ids of one migration's namespace.

    Raises:
        ValueError: (on creation) the namespace is not a UUID.
    """

    __slots__ = ("_prefix", "namespace")

    def __init__(self, namespace: uuid.UUID | str) -> None:
        self.namespace = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(namespace)
        self._prefix = hashlib.sha1(self.namespace.bytes, usedforsecurity=False)

    def destination_id(self, entity: str, source_key: str) -> str:
        """The destination id of one source record, as a lower-case UUID string.

        Raises:
            ValueError: the entity or key is empty.
        """
        if not entity or not source_key:
            raise ValueError("destination_id needs a non-empty entity and source key")
        digest = self._prefix.copy()
        digest.update(f"{entity}:{source_key}".encode())
        hex_ = digest.hexdigest()
        # Version 5 in the 13th hex digit; the variant in the 17th.
        variant = _VARIANT[hex_[16]]
        return f"{hex_[:8]}-{hex_[8:12]}-5{hex_[13:16]}-{variant}{hex_[17:20]}-{hex_[20:32]}"


def destination_id(namespace: uuid.UUID | str, entity: str, source_key: str) -> str:
    """The destination id of one source record, as a lower-case UUID string (for one-off
    calls; a loop over many records keeps an `IdSpace`).

    Raises:
        ValueError: the namespace is not a UUID, or the entity or key is empty.
    """
    return IdSpace(namespace).destination_id(entity, source_key)


def new_namespace() -> uuid.UUID:
    """A fresh random namespace for a new migration (stored once, in its config)."""
    return uuid.uuid4()
