"""Anchors: the chain head, written to a small file meant to leave the machine.

The hash chain shows that a row was edited, but whoever can write `ferry.db` can also
recompute every hash after the edit, and the chain holds again. An anchor taken earlier and
kept elsewhere catches that: the event at the anchored position must still have the
anchored hash. With a key (HMAC-SHA256), the anchor also proves it was written by someone
who holds the key, so it cannot be replaced by one matching the rewritten log.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from pathlib import Path

import msgspec

from events.errors import EventStoreError
from events.private_files import private_dir, write_private
from events.store import GENESIS_HASH

__all__ = [
    "ANCHORS_DIR",
    "Anchor",
    "AnchorError",
    "AnchorReport",
    "check_anchor",
    "default_anchor_path",
    "read_anchor",
    "take_anchor",
    "write_anchor",
]

ANCHOR_FORMAT = "ferry-anchor/1"
ANCHORS_DIR = "anchors"


class AnchorError(EventStoreError):
    """An anchor file cannot be read as one; the message names the file."""


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    """The chain head at one moment.

    Fields:
        format: `ferry-anchor/1`.
        position: the last position of the log when the anchor was taken (0: empty log).
        hash: the `hash` of the event at that position.
        first_hash: the `hash` of the event at position 1, which names the log.
        anchored_at: when it was taken (UTC ISO-8601).
        signature: HMAC-SHA256 hex, keyed by the operator's anchor key, over the fields
            above joined by 0x1F; empty when no key was set.
    """

    format: str = ANCHOR_FORMAT
    position: int
    hash: str
    first_hash: str
    anchored_at: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """What the signature covers."""
        fields = (self.format, str(self.position), self.hash, self.first_hash, self.anchored_at)
        return "\x1f".join(fields).encode()


class AnchorReport(msgspec.Struct, frozen=True):
    """The outcome of checking the log against an anchor (`reason` says what failed)."""

    is_ok: bool
    position: int
    reason: str = ""
    is_signature_checked: bool = False


def _sign(anchor: Anchor, key: bytes) -> str:
    return hmac.new(key, anchor.signed_bytes(), hashlib.sha256).hexdigest()


def _hash_at(conn: sqlite3.Connection, position: int) -> str | None:
    if position == 0:
        return GENESIS_HASH
    row = conn.execute("SELECT hash FROM events WHERE position = ?", (position,)).fetchone()
    return None if row is None else str(row[0])


def take_anchor(conn: sqlite3.Connection, anchored_at: str, key: bytes | None) -> Anchor:
    """The anchor of the log's current head, signed when `key` is given."""
    head = conn.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
    position, digest = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    first = _hash_at(conn, 1 if position else 0) or GENESIS_HASH
    anchor = Anchor(position=position, hash=digest, first_hash=first, anchored_at=anchored_at)
    if key:
        anchor = msgspec.structs.replace(anchor, signature=_sign(anchor, key))
    return anchor


def default_anchor_path(workdir: Path, anchor: Anchor) -> Path:
    """`<workdir>/anchors/anchor-<position>-<time>.json`, the folder made owner-only."""
    stamp = "".join(c for c in anchor.anchored_at if c.isalnum())
    return private_dir(workdir / ANCHORS_DIR) / f"anchor-{anchor.position:010d}-{stamp}.json"


def write_anchor(anchor: Anchor, path: Path) -> Path:
    """Write the anchor as JSON, owner-only."""
    return write_private(path, msgspec.json.format(msgspec.json.encode(anchor)) + b"\n")


def read_anchor(path: Path) -> Anchor:
    """The anchor kept in `path`.

    Raises:
        AnchorError: when the file is missing or not an anchor `ferry events anchor` wrote.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise AnchorError(f"{path}: cannot read the anchor ({error.strerror})") from error
    try:
        anchor = msgspec.json.decode(data, type=Anchor)
    except msgspec.DecodeError as error:
        raise AnchorError(
            f"{path}: not a Ferry anchor ({error}); give a file `ferry events anchor` wrote"
        ) from error
    if anchor.format != ANCHOR_FORMAT or anchor.position < 0:
        raise AnchorError(f"{path}: not a {ANCHOR_FORMAT} anchor; give a file Ferry wrote")
    return anchor


def check_anchor(conn: sqlite3.Connection, anchor: Anchor, key: bytes | None) -> AnchorReport:
    """Whether the log still holds the anchored head (and the signature, when `key` is given).

    A log whose chain was recomputed after an edit at or before the anchored position fails
    here even though its own hashes agree.
    """
    at = anchor.position
    if key:
        if not anchor.signature:
            return AnchorReport(False, at, "the anchor is not signed, but an anchor key is set")
        if not hmac.compare_digest(_sign(anchor, key), anchor.signature):
            return AnchorReport(
                False, at, "the anchor's signature does not match the key (edited or forged?)"
            )
    current = _hash_at(conn, at)
    if current is None:
        return AnchorReport(False, at, f"the log ends before the anchored position {at} (cut?)")
    first = _hash_at(conn, 1 if at else 0)
    if first != anchor.first_hash:
        return AnchorReport(
            False, 1, "the first event differs from the anchored one (another log, or rewritten)"
        )
    if current != anchor.hash:
        return AnchorReport(
            False, at, f"the event at position {at} no longer has the anchored hash (rewritten)"
        )
    return AnchorReport(True, at, is_signature_checked=bool(key))
