"""The Dental-Exec export adapter: a streaming reader and a synthetic export generator."""

from adapters.dental_exec.reader import DentalExecExport, open_export

__all__ = ["DentalExecExport", "open_export"]
