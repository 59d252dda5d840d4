"""Foreign-key bookkeeping for the audit: IDs seen per entity, references checked late if needed."""

from __future__ import annotations

from core.export_format import CUSTOM_RECORD_ENTITY, file_for_entity
from core.ports.source import SourceRow
from core.source_audit.findings import FindingSink

_ATTACHMENT_TARGETS = {
    "patient": "patient",
    "claim": "claim",
    "treatment plan": "treatment_plan",
    "appointment": "appointment",
    "referral": "referral",
}


def provider_code(text: str) -> str:
    """Providers are referenced by code, case-insensitively and with stray spaces (Q13)."""
    return text.strip().upper()


class References:
    """IDs per entity and provider codes; only keys are kept, never rows."""

    def __init__(self, sink: FindingSink) -> None:
        self.sink = sink
        self.ids: dict[str, set[int]] = {}
        self.codes: set[str] = set()
        self.complete: set[str] = set()
        self.pending: list[tuple[str, int, str, int, str | None, str]] = []

    def remember(self, row: SourceRow) -> bool:
        """Note a row's key; False when the key was seen before in this file."""
        if row.key is None or row.entity == "custom_field":
            return True
        seen = self.ids.setdefault(row.entity, set())
        number = int(row.key)
        if number in seen:
            return False
        seen.add(number)
        if row.entity == "provider" and row.values.get("code"):
            self.codes.add(provider_code(row.values["code"] or ""))
        return True

    def finish(self, entity: str) -> None:
        """Mark an entity as fully read: references to it can be checked at once."""
        self.complete.add(entity)
        self.ids.setdefault(entity, set())

    def check(self, row: SourceRow) -> None:
        """Check every foreign key of a row (now, or at the end when the target is not read)."""
        spec = file_for_entity(row.entity)
        for column, target in spec.foreign_keys.items():
            text = row.values.get(column)
            if text is None:
                continue
            if target == "provider.code":
                if "provider" in self.complete and provider_code(text) not in self.codes:
                    self._orphan(row, column, "provider")
                continue
            self._check_id(row, column, target, text)
        if row.entity == "custom_field":
            kind = (row.values.get("record_type") or "").lower()
            if kind in CUSTOM_RECORD_ENTITY:
                self._check_id(
                    row, "record_id", CUSTOM_RECORD_ENTITY[kind], row.values.get("record_id")
                )
        elif row.entity == "attachment":
            kind = (row.values.get("linked_record_type") or "").lower()
            if kind in _ATTACHMENT_TARGETS:
                target = _ATTACHMENT_TARGETS[kind]
                self._check_id(row, "linked_record_id", target, row.values.get("linked_record_id"))

    def _check_id(self, row: SourceRow, column: str, target: str, text: str | None) -> None:
        if text is None or not text.isdecimal() or int(text) == 0:
            return  # blank and 0 mean none (Q11); bad integers are row errors already
        number = int(text)
        if target in self.complete:
            if number not in self.ids[target]:
                self._orphan(row, column, target)
        elif number not in self.ids.get(target, ()):
            self.pending.append((target, number, row.file, row.line, row.key, column))

    def _orphan(self, row: SourceRow, column: str, target: str) -> None:
        self.sink.add(
            "orphan_reference",
            row.file,
            row.line,
            row.key,
            f"{column} points to a {target} that is not in the export",
        )
        self.sink.fixups.add_orphan(row.file, row.line, row.key, column, target)

    def check_pending(self, present: set[str]) -> None:
        """Check references whose target was read after the referring row."""
        for target, number, file, line, key, column in self.pending:
            if target in present and number not in self.ids.get(target, set()):
                self.sink.add(
                    "orphan_reference",
                    file,
                    line,
                    key,
                    f"{column} points to a {target} that is not in the export",
                )
                self.sink.fixups.add_orphan(file, line, key, column, target)
        self.pending.clear()
