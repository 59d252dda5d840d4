"""The delta report (Markdown): what was sent, the conflicts, the removals, the high-water mark.

Keys, Twenty ids and field names only: never a patient value.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.mapping import TARGET_LOAD_ORDER
from core.pipeline.delta import DeltaResult

__all__ = ["removed_heading", "render_delta_report", "split_targets"]


def split_targets(streams: Sequence[str]) -> tuple[list[str], list[str]]:
    """(source records, task and note targets): a target is the link of a task or note to
    its person, which goes with its record and is counted, not listed."""
    targets = [s for s in streams if s.split(":", 1)[0] in TARGET_LOAD_ORDER]
    return [s for s in streams if s.split(":", 1)[0] not in TARGET_LOAD_ORDER], targets


def removed_heading(result: DeltaResult) -> str:
    """What `removed` means for this export: absence says "removed" only in a full export."""
    if result.is_delta:
        return "Gone with a row deleted in the source (a delta bundle removes nothing by absence)"
    return "Removed in the source (absent from this full export)"


def _streams(streams: Sequence[str]) -> list[str]:
    records, targets = split_targets(streams)
    out = [f"- `{s}`" for s in records] or (["None."] if not targets else [])
    if targets:
        out += ["", f"With them {len(targets)} task or note target(s) (their links to people)."]
    return out


def render_delta_report(result: DeltaResult) -> str:
    """The Markdown report of one delta."""
    kind = "delta bundle" if result.is_delta else "full export"
    sent = result.sent()
    out = [
        f"# Delta {result.run_id}" + (" (dry run: nothing was sent)" if result.dry_run else ""),
        "",
        f"Export: `{result.export}` ({kind}); outcome: {result.outcome}; {result.seconds:.1f} s.",
        "",
        f"Sent: {sent['created']} created, {sent['updated']} updated, "
        f"{sent['soft_deleted']} soft-deleted; {len(result.conflicts)} conflict(s).",
        "",
        "| entity | read | unchanged | re-extracted | created | updated | up to date "
        "| soft-deleted | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    entities = dict.fromkeys([*result.local, *result.created, *result.updated, *result.deleted])
    for entity in entities:
        local, made = result.local.get(entity), result.created.get(entity)
        changed, gone = result.updated.get(entity), result.deleted.get(entity)
        cells = [
            local.read if local else 0,
            local.unchanged if local else 0,
            local.extracted if local else 0,
            made.created if made else 0,
            (changed.updated + changed.restored) if changed else 0,
            changed.up_to_date if changed else 0,
            gone.soft_deleted if gone else 0,
            (made.failed if made else 0) + (changed.failed if changed else 0),
        ]
        out.append(f"| {entity} | " + " | ".join(str(c) for c in cells) + " |")
    out += _lists(result)
    return "\n".join(out) + "\n"


def _lists(result: DeltaResult) -> list[str]:
    out = ["", "## Conflicts (edited in Twenty after our last write)", ""]
    for c in result.conflicts:
        what = "missing in Twenty" if c.missing else "fields " + ", ".join(c.fields)
        out.append(f"- `{c.stream_id}` ({c.destination_id}): {what}; {c.resolution}")
    if not result.conflicts:
        out.append("None.")
    out += ["", f"## {removed_heading(result)}", ""]
    out += _streams(result.removed)
    out += ["", "## Still in Twenty although removed or deleted in the source", ""]
    out += _streams(result.deletes_pending)
    if result.deletes_pending:
        out += ["", "Run `ferry delta EXPORT --apply-deletes` to soft-delete them."]
    out += ["", "## High-water mark (ask the next delta from these dates)", ""]
    out += [f"- {f}: {mark}" for f, mark in result.high_water.items()] or ["None."]
    if result.blocked:
        out += ["", "## Blocked (a parent has no Twenty id)", ""]
        out += [f"- `{b.stream_id}` via {b.field} -> `{b.parent}`" for b in result.blocked]
    return out
