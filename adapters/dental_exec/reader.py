"""The Dental-Exec export reader: implements core.ports.source.Source over a directory or ZIP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from adapters.dental_exec.bundle import Bundle
from adapters.dental_exec.records import CONTROL, RawRecord, parse_records
from adapters.dental_exec.rows import HeaderMap, RowBuilder, map_header
from core.errors import BadInputError
from core.export_format import ENTITIES, file_for_entity
from core.ports.source import ExportInfo, RowError, SourceFile, SourceRow
from core.values import ValueParseError, parse_date, parse_datetime, parse_int, parse_list

__all__ = ["DentalExecExport", "open_export"]


def open_export(
    path: str | Path, headers: Mapping[str, Mapping[str, str]] | None = None
) -> DentalExecExport:
    """Open a Dental-Exec export (directory or ZIP) for streaming reads.

    `headers` is what the confirmed mapping says each header means: entity -> {header as
    written -> canonical column ("" when unknown)}. Without it the format's labels decide.

    Raises:
        BadInputError: when the export is missing, unreadable, ambiguous or holds no table.
    """
    return DentalExecExport(Bundle(Path(path)), headers)


class _FileState:
    """What the reader knows about one member; counts filled in by a complete read."""

    def __init__(self, entity: str, member: str, encoding: str, header: HeaderMap) -> None:
        self.entity, self.member, self.encoding, self.header = entity, member, encoding, header
        self.rows: int | None = None
        self.error_rows: int | None = None
        self.notes: tuple[str, ...] = ()


class DentalExecExport:
    """One export bundle; `rows(entity)` streams, everything else is cheap metadata."""

    def __init__(
        self, bundle: Bundle, headers: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self._bundle = bundle
        self._confirmed = headers or {}
        members, self.unknown_files, self._info_member = bundle.match()
        if not members:
            raise BadInputError(
                "no Dental-Exec table found (patients.csv, appointments.csv, ...); pass the "
                "folder or ZIP that Admin > Data Export produced",
                file=str(bundle.path),
            )
        self._files: dict[str, _FileState] = {}
        for entity in ENTITIES:
            if entity in members:
                self._files[entity] = self._inspect(entity, members[entity])

    @property
    def location(self) -> str:
        """The export's path."""
        return str(self._bundle.path)

    def _inspect(self, entity: str, member: str) -> _FileState:
        encoding = self._bundle.detect_encoding(member)
        spec = file_for_entity(entity)
        with self._bundle.open_text(member, _codec(encoding)) as text:
            first = next(parse_records(text), None)
        header = map_header(spec, first.fields if first else [], self._confirmed.get(entity))
        return _FileState(entity, member, encoding, header)

    def entities(self) -> list[str]:
        """The entities present, in export order."""
        return list(self._files)

    def export_info(self) -> ExportInfo:
        """The parsed `_export_info.txt`; an empty ExportInfo when the bundle has none."""
        if self._info_member is None:
            return ExportInfo()
        encoding = _codec(self._bundle.detect_encoding(self._info_member))
        with self._bundle.open_text(self._info_member, encoding) as text:
            pairs = {}
            for line in text:
                key, sep, value = line.partition(":")
                if sep:
                    pairs[key.strip()] = value.strip()
        return _export_info(pairs)

    def inventory(self) -> list[SourceFile]:
        """Every table found; counts rows (one streaming pass) for files not read in full yet."""
        for entity, state in self._files.items():
            if state.rows is None:
                for _ in self.rows(entity):
                    pass
        return [self._describe(state) for state in self._files.values()]

    def describe(self, entity: str) -> SourceFile:
        """The SourceFile of one entity without reading it (counts None until a full read).

        Raises:
            KeyError: when the entity is not in the export.
        """
        return self._describe(self._files[entity])

    def header_cells(self, entity: str) -> tuple[str, ...]:
        """The header row of one entity's file as written (for tools that write it back).

        Raises:
            KeyError: when the entity is not in the export.
        """
        return self._files[entity].header.cells

    def _describe(self, state: _FileState) -> SourceFile:
        return SourceFile(
            entity=state.entity,
            name=state.member,
            encoding=state.encoding,
            headers_recognised=state.header.recognised,
            headers_unknown=state.header.unknown,
            columns_missing=state.header.missing,
            headers_repeated=state.header.repeated,
            rows=state.rows,
            error_rows=state.error_rows,
            notes=state.notes,
        )

    def rows(self, entity: str) -> Iterator[SourceRow]:
        """Stream one entity's rows; trailer rows and blank lines are excluded with a note.

        Raises:
            KeyError: when the entity is not in the export.
        """
        state = self._files[entity]
        builder = RowBuilder(file_for_entity(entity), state.member, state.header)
        rows = error_rows = blank = 0
        notes: list[str] = []
        build, fast, width = builder.build_general, builder.fast, builder.width
        with self._bundle.open_text(state.member, _codec(state.encoding)) as text:
            records = parse_records(text)
            next(records, None)  # the header
            for record in records:
                line, fields, is_broken, has_replacement, is_multiline = record
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    blank += 1
                    continue
                if fields[0][:1] in _TRAILER_START and _is_trailer(record):
                    notes.append(f"line {line}: trailer row (Q17) excluded")
                    continue
                rows += 1
                # The fast path answers None for anything but a plain row.
                if fast is not None and len(fields) == width and not (is_broken or has_replacement):
                    row = fast(line, fields)
                    if row is not None:
                        yield row
                        continue
                problems = _problems(state.member, record, builder.names)
                row = build(line, fields, problems, is_multiline)
                if row.errors:
                    error_rows += 1
                yield row
        if blank:
            notes.append(f"{blank} blank line(s) skipped")
        state.rows, state.error_rows, state.notes = rows, error_rows, tuple(notes)


def _codec(encoding: str) -> str:
    return "utf-8" if encoding == "ascii" else encoding


_TRAILER_START = frozenset("Tt ")


def _is_trailer(record: RawRecord) -> bool:
    return record.fields[0].strip().lower().startswith("total")


def _problems(member: str, record: RawRecord, names: tuple[str, ...] = ()) -> tuple[RowError, ...]:
    if not record.is_broken and not record.has_replacement:
        return ()
    problems = []
    if record.is_broken:
        problems.append(
            RowError(
                member,
                record.line,
                None,
                "broken_quoting",
                "unbalanced or stray quote; the row was read up to its first line only",
            )
        )
    columns = [str(i + 1) for i, cell in enumerate(record.fields) if "\ufffd" in cell]
    if columns:
        problems.append(
            RowError(
                member,
                record.line,
                None,
                "undecodable_bytes",
                f"bytes not valid in the file's encoding in field(s) {', '.join(columns)}",
            )
        )
    for i, cell in enumerate(record.fields):
        if CONTROL.search(cell) is not None:
            name = names[i] if i < len(names) and names[i] else f"field {i + 1}"
            problems.append(
                RowError(
                    member,
                    record.line,
                    name.lstrip("?"),
                    "control_character",
                    "a control character (NUL, another C0 control, DEL or a byte-order mark) "
                    "in the value; the row is refused: remove it in Dental-Exec and export again",
                )
            )
    return tuple(problems)


def _export_info(pairs: dict[str, str]) -> ExportInfo:
    def get(key: str) -> str | None:
        return pairs.get(key) or None

    try:
        exported = parse_datetime(get("Exported"))
        since = parse_date(get("Modified Since"))
        locations = tuple(parse_int(item) or 0 for item in parse_list(get("Locations")))
    except ValueParseError as error:
        raise BadInputError(
            f"_export_info.txt: {error}; fix or remove the line", file="_export_info.txt"
        ) from None
    include = get("Include Deleted")
    known = {"Product", "Exported", "Practice Code", "Locations", "Modified Since"}
    known |= {"Include Deleted", "Encoding"}
    return ExportInfo(
        product=get("Product"),
        exported_at=exported,
        practice_code=get("Practice Code"),
        location_ids=locations,
        modified_since=since.value if since else None,
        include_deleted=None if include is None else include.lower() in {"yes", "y", "true", "1"},
        encoding=get("Encoding"),
        extra={k: v for k, v in pairs.items() if k not in known},
    )
