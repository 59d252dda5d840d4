"""Workspace members seeded from a CSV `name,email` (Twenty refuses to create them by API)."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

from adapters.twenty_sandbox.config import SandboxConfigError

_NAMESPACE = uuid.UUID("0b6f4e1e-7c55-4d61-8f0a-6a2d3c1b9e77")


def read_members(path: Path) -> list[dict[str, Any]]:
    """Member records (`id`, `name`, `userEmail`, `userId`) from a CSV with header `name,email`.

    Ids derive from the email, so re-seeding the same file finds the same members.

    Raises:
        SandboxConfigError: when the file is missing, lacks the header, or a row has no email.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise SandboxConfigError(
            f"{path}: cannot read the members file ({error.strerror})"
        ) from None
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        if "name" not in header or "email" not in header:
            raise SandboxConfigError(f"{path}:1: the members file needs a header `name,email`")
        members = []
        for row in reader:
            clean = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            email = clean.get("email", "").lower()
            if "@" not in email:
                raise SandboxConfigError(
                    f"{path}:{reader.line_num} column 'email': not an email address; "
                    "give each member a login email"
                )
            first, _, last = clean.get("name", "").partition(" ")
            members.append(
                {
                    "id": str(uuid.uuid5(_NAMESPACE, f"member:{email}")),
                    "name": {"firstName": first, "lastName": last.strip()},
                    "userEmail": email,
                    "userId": str(uuid.uuid5(_NAMESPACE, f"user:{email}")),
                }
            )
    return members
