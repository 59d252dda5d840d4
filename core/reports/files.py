"""Report files: written owner-only (mode 0600), because some of them hold patient values."""

from __future__ import annotations

from events.private_files import write_private

__all__ = ["write_private"]
