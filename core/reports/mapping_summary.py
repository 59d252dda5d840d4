"""What `ferry map propose` prints: a summary that fits an 80-column terminal.

Counts per file, the lowest-confidence columns first, unplaced value-map codes with what to
do about them, and where the full mapping document is. At most about 20 lines; the document
(`reports/mapping.html`) holds the rest.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec

from core.mapping.proposer import Proposal
from core.reports.mapping_document import (
    DocumentValueMap,
    MappingDocument,
    mapping_document,
    unplaced_guidance,
)
from core.reports.mapping_render import write_documents
from events.store import EventStore

__all__ = [
    "LOW_CONFIDENCE",
    "WIDTH",
    "ProposalReport",
    "propose_summary",
    "write_proposal_report",
]

WIDTH = 80
LOW_CONFIDENCE = 0.8
_SHOWN = 5


def _fit(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def propose_summary(proposal: Proposal, document: MappingDocument) -> list[str]:
    """The proposal's summary lines, none wider than 80 columns."""
    skipped = len(document.not_migrated)
    lines = [
        f"{document.column_count} columns in {len(document.files)} files: "
        f"{document.column_count - skipped} to fields, {skipped} with none (reasons given)"
    ]
    counts = [f"{f.file.removesuffix('.csv')} {len(f.columns)}" for f in document.files]
    lines += textwrap.wrap(", ".join(counts), WIDTH, initial_indent="  ", subsequent_indent="  ")
    low = [item for item in proposal.columns if item.confidence < LOW_CONFIDENCE]
    if low:
        lines.append(f"{len(low)} below {LOW_CONFIDENCE:.2f} confidence, lowest first:")
    else:
        lines.append(f"none below {LOW_CONFIDENCE:.2f} confidence; the lowest:")
    for item in (low or proposal.columns)[: _SHOWN if low else 3]:
        target = item.target or "(not migrated)"
        lines.append(_fit(f"  {item.confidence:.2f} {item.file}: {item.header} -> {target}"))
    if len(low) > _SHOWN:
        lines.append(f"  ... and {len(low) - _SHOWN} more in the mapping document")
    lines += _unplaced_lines(document)
    return lines


def _unplaced_lines(document: MappingDocument) -> list[str]:
    maps = [m for m in document.value_maps if m.unplaced]
    if not maps:
        return []
    total = sum(len(m.unplaced) for m in maps)
    lines = [f"{total} value-map code(s) unplaced (seen in the export, matched to no option):"]
    for value_map in maps[:_SHOWN]:
        codes = ", ".join(value_map.unplaced)
        note = " (skipped as deleted; nothing to place)" if _only_deleted(value_map) else ""
        lines.append(_fit(f"  {value_map.name}: {codes}{note}"))
    if len(maps) > _SHOWN:
        lines.append(f"  ... and {len(maps) - _SHOWN} more value map(s) in the document")
    lines += textwrap.wrap(_HINT, WIDTH, initial_indent="  ", subsequent_indent="  ")
    return lines


_HINT = (
    "Their rows are rejected unless the map has a fallback. To place a code, add "
    '"CODE" = "OPTION" under [value_maps.NAME.values] in mapping.toml and remove it from '
    "unplaced; the mapping document lists each map's options."
)


def _only_deleted(value_map: DocumentValueMap) -> bool:
    return all("nothing to place" in unplaced_guidance(value_map, c) for c in value_map.unplaced)


class ProposalReport(msgspec.Struct, frozen=True, kw_only=True):
    """What `map propose` wrote and what it prints."""

    lines: list[str]
    markdown: Path
    html: Path


def write_proposal_report(
    proposal: Proposal, mapping_path: Path, reports: Path, store: EventStore | None = None
) -> ProposalReport:
    """Write the mapping document of a freshly written proposal into `reports/`; the summary.

    With the work directory's store, the document says whether this mapping is the confirmed one.

    Raises:
        MappingError: when the mapping file cannot be read back.
    """
    document = mapping_document(mapping_path, store)
    markdown, html = write_documents(document, reports / "mapping.md")
    return ProposalReport(lines=propose_summary(proposal, document), markdown=markdown, html=html)
