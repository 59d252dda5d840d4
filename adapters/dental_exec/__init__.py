"""The Dental-Exec export adapter: a streaming reader and a synthetic export generator."""

from adapters.dental_exec.delta import DeltaOptions, DeltaResult, generate_delta
from adapters.dental_exec.generator import (
    GenerationResult,
    GeneratorOptions,
    InjectedError,
    generate_export,
)
from adapters.dental_exec.reader import DentalExecExport, open_export

__all__ = [
    "DeltaOptions",
    "DeltaResult",
    "DentalExecExport",
    "GenerationResult",
    "GeneratorOptions",
    "InjectedError",
    "generate_delta",
    "generate_export",
    "open_export",
]
