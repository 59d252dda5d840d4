"""`apply_delta`: a session's confirmed mapping, members and Twenty put together for a delta.

For a delta bundle the transform pre-pass reads the bundle over every row the store knows
(core.pipeline.delta_source.MergedSource), so that a patient whose custom field changed, or
a family whose new member shares the guarantor's email, gets the payload a full export
would give. A later full export is complete by itself.
"""

from __future__ import annotations

import shutil

from core.clock import Clock
from core.mapping import TransformSettings, prepare_context
from core.mapping.gate import check_gate, confirmed_hash
from core.mapping.spec import schema_spec_from_mapping
from core.members import check_members, providers_from_rows
from core.pipeline.delta import DeltaOptions, DeltaResult, DeltaRun, dry_run_workspace
from core.pipeline.delta_source import MergedSource, owners_to_refresh
from core.pipeline.run import Progress
from core.ports.source import Source
from core.session import Session
from core.source_audit.decisions import merges

__all__ = ["apply_delta"]


async def apply_delta(
    session: Session,
    export: Source,
    options: DeltaOptions,
    clock: Clock,
    progress: Progress | None = None,
) -> DeltaResult:
    """Apply a delta bundle or a later full export to Twenty (or plan it, in a dry run).

    Raises:
        MappingError: the mapping gate refused the export.
        FatalForRunError: Twenty refused the run (auth, data model).
    """
    ws = session.workspace
    mapping = check_gate(ws.mapping_path, ws.store, export)
    spec = schema_spec_from_mapping(mapping)
    mapping_hash = confirmed_hash(ws.store) or ""
    is_delta = export.export_info().is_delta
    source: Source = (
        MergedSource(export, session.source, ws.store.connection) if is_delta else export
    )
    started = clock.monotonic()  # detection: this pre-pass and the local stages
    refresh = owners_to_refresh(export, ws.store.connection)
    workspace, folder = dry_run_workspace(ws) if options.dry_run else (ws, None)
    try:
        async with session.client() as client:
            providers = (
                providers_from_rows(source.rows("provider"))
                if "provider" in source.entities()
                else []
            )
            placeholder = ws.config.run.placeholder_owner or None
            members = await check_members(providers, client, placeholder, ws.config.members)
            settings = TransformSettings(
                namespace=ws.namespace,
                owner_for=members.owner_for,
                merged_patients=merges(ws.store),
            )
            context = prepare_context(source, mapping, settings)
            try:
                prepared = clock.monotonic() - started
                run = DeltaRun(
                    workspace,
                    export,
                    context,
                    spec,
                    client,
                    clock=clock,
                    options=options,
                    progress=progress,
                )
                result = await run.execute(mapping_hash, refresh)
            finally:
                context.close()  # its scratch database of pre-pass facts
            result.detect_seconds += prepared
            return result
    finally:
        if folder is not None:
            workspace.store.close()
            shutil.rmtree(folder, ignore_errors=True)
