"""The mapping: proposal, confirmation gate, value maps, transforms and validation.

The pipeline uses `prepare_context`, `transform`, `validate` and `LOAD_ORDER`; the CLI uses
`propose_mapping`, `confirm_mapping`, `diff_mappings` and `check_gate`.
"""

from core.mapping.context import TransformContext, TransformSettings
from core.mapping.model import (
    ColumnMapping,
    FileMapping,
    Mapping,
    MappingError,
    ValueMap,
    dump_mapping,
    load_mapping,
    mapping_hash,
    parse_mapping,
    write_mapping,
)
from core.mapping.outcomes import Outcome, Reason, Ref, Rejected, Skipped, Transformed
from core.mapping.prepass import prepare_context
from core.mapping.transform import LOAD_ORDER, TARGET_LOAD_ORDER, transform

__all__ = [
    "LOAD_ORDER",
    "TARGET_LOAD_ORDER",
    "ColumnMapping",
    "FileMapping",
    "Mapping",
    "MappingError",
    "Outcome",
    "Reason",
    "Ref",
    "Rejected",
    "Skipped",
    "TransformContext",
    "TransformSettings",
    "Transformed",
    "ValueMap",
    "dump_mapping",
    "load_mapping",
    "mapping_hash",
    "parse_mapping",
    "prepare_context",
    "transform",
    "write_mapping",
]
