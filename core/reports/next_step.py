"""The one line every state-changing command ends with: what to do next."""

from __future__ import annotations

__all__ = ["COMMANDS", "next_step"]

# command -> (after success, after a partial or failed outcome)
_NEXT: dict[str, tuple[str, str]] = {
    "init": (
        "`ferry source audit`, then `ferry map propose EXPORT`",
        "fix what is named above, then `ferry init` again",
    ),
    "source decide": (
        "`ferry map propose EXPORT`; every later run applies these decisions",
        "fill in the rows named above, then `ferry source decide duplicates` again",
    ),
    "map propose": (
        "read reports/mapping.html, edit mapping.toml, then `ferry map confirm`",
        "place the unplaced codes in mapping.toml, then `ferry map confirm`",
    ),
    "map confirm": (
        "`ferry schema apply` creates the fields the mapping needs in Twenty",
        "fix mapping.toml as named above, then `ferry map confirm` again",
    ),
    "schema apply": (
        "`ferry sample` loads a sample and writes its diff for review",
        "fix what the probe names, then `ferry schema apply` again",
    ),
    "sample": (
        "review reports/sample-diff.html, then `ferry sample approve`",
        "check sample-diff.html, then `ferry sample approve --accept-differences`",
    ),
    "sample approve": (
        "`ferry run` migrates everything (after any stop, run it again to resume)",
        "`ferry sample` again, then `ferry sample approve`",
    ),
    "run": (
        "`ferry verify` reads every record back and writes the reconciliation",
        "`ferry run` again resumes exactly where it stopped",
    ),
    "verify": (
        "`ferry report reconciliation`; for a later export, `ferry delta EXPORT`",
        "check the differences above, fix them, then `ferry verify` again",
    ),
    "delta": (
        "`ferry verify` reads the records back and reconciles",
        "`ferry run` finishes what this delta left, then `ferry verify`",
    ),
    "delta dry run": (
        "`ferry delta EXPORT` without --dry-run sends these changes",
        "`ferry delta EXPORT` without --dry-run sends these changes",
    ),
    "rollback": (
        "`ferry status` shows what is left; `ferry run` migrates again",
        "`ferry rollback` again: it resumes where it stopped",
    ),
}
COMMANDS = tuple(_NEXT)


def next_step(command: str, *, is_ok: bool = True) -> str:
    """`next: ...` for a command (one line), after success or after a partial outcome.

    Raises:
        KeyError: for a command that changes no state.
    """
    done, partial = _NEXT[command]
    return f"next: {done if is_ok else partial}"
