"""What the checks before and after a run read from the work directory: the source as it
stands (the first export and every delta applied since), the records `ferry verify` reads
back, and the pre-flight plan of `ferry plan`.

The export reader is an adapter, so it is given (`OpenSource`, as to `core.session`).
"""

from __future__ import annotations

from pathlib import Path

from core.errors import FerryError
from core.mapping.gate import check_gate, confirmed_hash, confirmed_headers
from core.mapping.model import Mapping
from core.mapping.spec import schema_spec_from_mapping
from core.members import MemberReport, providers_from_rows
from core.pipeline.plan import Plan, PlanInputs, check_destination, make_plan
from core.pipeline.sample_approval import is_sample_approved
from core.pipeline.source_view import delta_exports
from core.pipeline.verification import SourceCount, count_source_rows
from core.ports.source import Source
from core.schema import SchemaPlan
from core.schema_spec import SchemaSpec, default_spec
from core.session import DestinationClient, OpenSource, destination_settings
from core.workspace import Workspace

# The record states `ferry verify` reads back.
_VERIFIED_STATES = ("loaded", "verified", "verify_failed")


def current_source(workspace: Workspace, open_source: OpenSource) -> Source | None:
    """The workspace's export, or None when it is no longer where ferry.toml says."""
    path = Path(workspace.config.source)
    if not path.exists():
        return None
    return open_source(path, confirmed_headers(workspace.mapping_path))


def count_current_source(workspace: Workspace, open_source: OpenSource) -> SourceCount:
    """The source as it stands, counted from the files: the first export and every delta
    applied since (`core.pipeline.verification.count_source_rows`)."""
    locations = [workspace.config.source, *delta_exports(workspace.store.connection)]
    headers = confirmed_headers(workspace.mapping_path)
    exports = [
        (location, open_source(Path(location), headers) if Path(location).exists() else None)
        for location in locations
    ]
    return count_source_rows(exports)


def records_to_verify(workspace: Workspace, entity: str | None) -> int:
    """The records `ferry verify` reads back (for its progress bar)."""
    marks = ", ".join("?" * len(_VERIFIED_STATES))
    sql = f"SELECT COUNT(*) FROM record_state WHERE state IN ({marks})"
    params: tuple[str, ...] = _VERIFIED_STATES
    if entity:
        sql, params = sql + " AND entity = ?", (*params, entity)
    return int(workspace.store.connection.execute(sql, params).fetchone()[0])


def _gate(workspace: Workspace, source: Source | None) -> Mapping:
    return check_gate(workspace.mapping_path, workspace.store, source)


def plan_spec(workspace: Workspace, source: Source | None) -> SchemaSpec:
    """The data model the plan checks Twenty for: the confirmed mapping's, or the default
    one when the mapping is refused (the plan's mapping finding says why)."""
    try:
        return schema_spec_from_mapping(_gate(workspace, source))
    except FerryError:
        return default_spec()


async def check_workspace_destination(
    workspace: Workspace, source: Source | None, client: DestinationClient
) -> tuple[SchemaPlan, MemberReport]:
    """The schema plan and the member report of the workspace, read from Twenty."""
    spec = plan_spec(workspace, source)
    providers = providers_from_rows(source.rows("provider")) if source else []
    placeholder = workspace.config.run.placeholder_owner or None
    return await check_destination(
        spec, client, client, providers, placeholder, workspace.config.members
    )


def workspace_plan(
    workspace: Workspace,
    source: Source | None,
    checked: tuple[SchemaPlan, MemberReport] | None,
) -> Plan:
    """The pre-flight plan: records, requests, duration under the budget and every finding
    (`checked`: what Twenty answered, None when it was not asked)."""
    schema, members = checked if checked is not None else (None, None)
    inputs = PlanInputs(
        batch_size=destination_settings(workspace).batch_size,
        rate_limit=workspace.config.twenty.rate_limit,
        source=source,
        mapping_check=lambda: _gate(workspace, source),
        sample_approved=lambda: is_sample_approved(workspace, confirmed_hash(workspace.store)),
        schema=schema,
        members=members,
    )
    return make_plan(workspace.store.connection, inputs)
