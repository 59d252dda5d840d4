"""`ferry sample` around the run: choose the sample, read it back, write the diff; and the
check `ferry run` makes that a sample of the current mapping was approved.

The run of the sample itself is `Session.run` with the chosen keys; between the steps the
command shows progress and closes the work directory (a run opens it again).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.mapping.gate import confirmed_hash
from core.pipeline.approval import is_sample_approved as is_approval_recorded
from core.pipeline.sample import SampleOptions, SampleSelection, select_sample
from core.pipeline.sample_approval import (
    DIFF_CSV,
    DIFF_HTML,
    SHAREABLE_CSV,
    SHAREABLE_HTML,
    DiffInfo,
    is_sample_approved,
    write_sample_diff,
)
from core.pipeline.sample_diff import (
    SampleDiff,
    build_sample_diff,
    field_sources,
    field_transforms,
)
from core.session import Session
from core.workspace import Workspace
from events.store import EventStore

# The diff with patient values (owner-only) first, then the de-identified copies to share.
SAMPLE_OUTPUTS = (DIFF_HTML, DIFF_CSV, SHAREABLE_HTML, SHAREABLE_CSV)


def has_approved_sample(store: EventStore, reports: Path) -> bool:
    """True when an approval is on record and matches the current diff and the confirmed
    mapping: a new sample or a changed mapping voids it."""
    mapping_hash = confirmed_hash(store)
    return is_approval_recorded(store, mapping_hash) and is_sample_approved(reports, mapping_hash)


def choose_sample(session: Session, size: int | None, seed: int) -> SampleSelection:
    """The records of the sample (size: ferry.toml's run.sample_size unless given).

    Raises:
        MappingError: the mapping gate refused, before anything is selected or sent.
    """
    session.mapping()
    wanted = size or session.workspace.config.run.sample_size
    return select_sample(session.source, SampleOptions(size=wanted, seed=seed))


def sample_size(selection: SampleSelection) -> int:
    """The records to read back (for a progress bar)."""
    return sum(len(keys) for keys in selection.keys.values())


async def read_back_sample(
    session: Session, selection: SampleSelection, run_id: str, on_page: Callable[[int], None]
) -> SampleDiff:
    """Read the sample's records back from Twenty and lay out every field sent."""
    mapping = session.mapping()
    sources, transforms = field_sources(mapping), field_transforms(mapping)
    async with session.client() as client:
        return await build_sample_diff(
            session.workspace.store.connection,
            client,
            selection.keys,
            sources,
            transforms=transforms,
            custom=selection.custom,
            patients=selection.patient_of,
            run_id=run_id,
            on_page=on_page,
        )


def write_sample_outputs(workspace: Workspace, diff: SampleDiff) -> tuple[DiffInfo, list[Path]]:
    """Write the diff (and its de-identified copy) under reports/; what it holds and where."""
    mapping_hash = confirmed_hash(workspace.store) or ""
    info = write_sample_diff(workspace.reports, diff, mapping_hash=mapping_hash)
    return info, [workspace.reports / name for name in SAMPLE_OUTPUTS]
