"""Renderings of a Reconciliation: JSON-ready data and `reports/reconciliation.md`."""

from __future__ import annotations

from typing import Any

from core.reports.reconciliation import CATEGORIES, EntityReconciliation, Reconciliation

__all__ = ["IDENTITY", "reconciliation_data", "render_reconciliation", "verdict"]

IDENTITY = (
    "records = " + " + ".join(CATEGORIES) + "; source rows = records + repeated keys + not read"
)
_LABELS = {
    "skipped": "skipped",
    "rejected": "rejected",
    "pending": "pending",
    "blocked": "blocked",
    "in_doubt": "in doubt",
    "load_failed": "load failed",
    "loaded": "loaded",
    "verified": "verified",
    "mismatched": "mismatched",
    "missing": "missing",
    "removed": "removed in source",
    "deleted": "soft-deleted",
    "rolled_back": "rolled back",
}
_NEXT = {
    "pending": "run `ferry run` to load them",
    "blocked": "fix the parent records (rejected, skipped or failed), then `ferry run`",
    "in_doubt": "run `ferry run`: it looks them up in Twenty before anything is resent",
    "load_failed": "read the codes below; fix the data or mapping, then `ferry run --retry-failed`",
    "loaded": "run `ferry verify`",
    "mismatched": "compare the fields below in Twenty (`ferry trail <entity>:<key>`)",
    "missing": "the records are gone from Twenty: find out why, then reload them",
    "rejected": "see the codes below; fix the export or the mapping and run again",
    "removed": "gone from the latest full export: `ferry delta EXPORT --apply-deletes` "
    "soft-deletes "
    "them in Twenty",
}


def reconciliation_data(result: Reconciliation) -> dict[str, Any]:
    """The reconciliation as plain data for `--json`."""
    return {
        "adds_up": result.adds_up,
        "source_problem": result.source_problem,
        "absent_files": {
            entity: "acknowledged" if ok else "not acknowledged"
            for entity, ok in result.absent.items()
        },
        "identity": IDENTITY,
        "totals": result.totals(),
        "entities": [_entity_data(e) for e in result.entities],
    }


def _entity_data(entity: EntityReconciliation) -> dict[str, Any]:
    return {
        "entity": entity.entity,
        "source_rows": entity.source_rows,
        "repeated_keys": entity.repeated_keys,
        "not_read": entity.not_read,
        "records": entity.records,
        **entity.counts,
        "adds_up": entity.adds_up,
        "done": entity.is_done,
        "codes": entity.codes,
        "keys": entity.keys,
    }


def _cell(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def render_reconciliation(result: Reconciliation, *, title: str = "Reconciliation") -> str:
    """`reports/reconciliation.md`: the table, the identity checked, codes, keys, next steps."""
    head = ["entity", "source rows", "repeated", "not read", "records"]
    head += [_LABELS[c] for c in CATEGORIES] + ["adds up"]
    out = [f"# {title}", "", verdict(result), "", f"Checked in code for every entity: {IDENTITY}."]
    out += ["", "| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 2) + "|---|"]
    for entity in result.entities:
        cells = [entity.entity, _cell(entity.source_rows), _cell(entity.repeated_keys)]
        cells += [_cell(entity.not_read), _cell(entity.records)]
        cells += [_cell(entity.counts[c]) for c in CATEGORIES]
        cells.append("yes" if entity.adds_up else "**NO**")
        out.append("| " + " | ".join(cells) + " |")
    totals = result.totals()
    counted = [e for e in result.entities if e.source_rows is not None]
    sources = [sum(e.source_rows or 0 for e in counted), sum(e.repeated_keys for e in counted)]
    sources.append(sum(e.not_read or 0 for e in counted))
    out.append(
        "| **all** | "
        + (" | ".join(_cell(n) for n in sources) if counted else "– | – | –")
        + " | "
        + " | ".join(_cell(totals[c]) for c in ("records", *CATEGORIES))
        + " | "
        + ("yes" if result.adds_up else "**NO**")
        + " |"
    )
    for absent, acknowledged in result.absent.items():
        how = (
            "by acknowledgement at `ferry map confirm --allow-missing`"
            if acknowledged
            else ("**without acknowledgement**: nothing of it is migrated")
        )
        out.append(f"\n{absent}: its file is absent from the export {how}.")
    out += _details(result)
    return "\n".join(out) + "\n"


def verdict(result: Reconciliation) -> str:
    """The one-line verdict at the top of the reconciliation (Markdown emphasis included)."""
    if result.source_problem:
        return (
            f"**Cannot check**: {result.source_problem}. Put the exports back where they were "
            "read (or fix `source` in ferry.toml), then run `ferry verify` again."
        )
    if not result.adds_up:
        return "**The numbers do not add up**: some source rows are not accounted for (see below)."
    if all(e.is_done for e in result.entities):
        return "Every source row is accounted for, and every migrated record is verified."
    return "Every source row is accounted for; some records still need work (see below)."


def _details(result: Reconciliation) -> list[str]:
    out: list[str] = []
    for entity in result.entities:
        lines = []
        if entity.not_read and entity.not_read > 0:
            lines.append(f"- {entity.not_read:,} source row(s) not read yet: run `ferry run`.")
        elif entity.not_read:
            lines.append(
                f"- {-entity.not_read:,} record(s) more than the source holds rows: the store "
                "was written from another export; check `source` in ferry.toml."
            )
        for category in CATEGORIES:
            count = entity.counts[category]
            codes = entity.codes.get(category)
            if not count or (category in ("verified", "skipped") and not codes):
                continue
            line = f"- {_LABELS[category]}: {count:,}"
            if codes:
                line += " (" + ", ".join(f"`{c}` {n:,}" for c, n in sorted(codes.items())) + ")"
            if category in _NEXT:
                line += f" — {_NEXT[category]}"
            lines.append(line)
            keys = entity.keys.get(category)
            if keys:
                more = ", …" if len(keys) < count else ""
                lines.append("  keys: " + ", ".join(f"`{k}`" for k in keys) + more)
        if lines:
            out += ["", f"## {entity.entity}", "", *lines]
    return out
