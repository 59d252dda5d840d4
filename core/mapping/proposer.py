"""`propose_mapping`: a mapping proposed from evidence, each column with a confidence.

For every header of every file: header similarity to each column of that file (the format's
labels and aliases, abbreviations expanded, rapidfuzz token matching) and the profile of a
bounded sample of its values (the share that parses as the column's kind). Headers and
columns are paired greedily, best score first, one to one. The confidence is the combined
score, lowered when the runner-up was close; a header no column fits is ignored with a reason.
"""

from __future__ import annotations

import re
from itertools import islice

import msgspec
from rapidfuzz import fuzz

from core.export_format import FILES, ColumnSpec, file_for_entity, header_key
from core.mapping.defaults import FILE_TARGETS, column_default
from core.mapping.evidence import KeySets, key_fit, vocabulary_match
from core.mapping.headers import describe_file, file_headers
from core.mapping.model import ColumnMapping, FileMapping, Mapping
from core.mapping.profile import expected_kind, profile_values, value_score
from core.mapping.valuemaps import default_value_maps
from core.mapping.values_proposal import propose_value_maps
from core.ports.source import Source

__all__ = ["ColumnProposal", "Proposal", "propose_mapping"]

SAMPLE_ROWS = 500
_ABBREVIATIONS = {
    "pt": "patient", "pat": "patient", "appt": "appointment", "appts": "appointment",
    "dob": "birth date", "bday": "birth date", "addr": "address", "ph": "phone",
    "tel": "phone", "telephone": "phone", "no": "number", "num": "number", "nbr": "number",
    "dt": "date", "prov": "provider", "hyg": "hygienist", "loc": "location", "ins": "insurance",
    "est": "estimate", "amt": "amount", "desc": "description", "e": "", "mail": "mail",
    "emailaddress": "email", "zipcode": "zip", "postal": "zip", "postcode": "zip",
    "dx": "diagnosis", "tx": "treatment", "ref": "reference", "dos": "date of service",
    "mi": "middle initial", "fname": "first name", "lname": "last name", "sex": "gender",
    "mobile": "cell phone", "cell": "cell phone", "stat": "status", "pct": "percent",
    "recip": "recipient", "qty": "quantity", "yr": "year", "mo": "month", "min": "minutes",
    "mins": "minutes", "id": "id", "ssn": "ssn", "pmt": "payment", "pymt": "payment",
    "kind": "type", "dentist": "provider", "doctor": "provider", "street": "address",
    "resp": "responsible", "postalcode": "zip",
}  # fmt: skip
_ENTITY_WORDS = {
    "patient": {"patient"}, "appointment": {"appointment"}, "claim": {"claim"},
    "payment": {"payment"}, "recall": {"reminder", "recall"}, "referral": {"referral"},
    "attachment": {"attachment"}, "communication": {"communication", "comm"},
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


class ColumnProposal(msgspec.Struct, frozen=True):
    """One header's proposal, for the terminal: what it maps to, how sure, and why."""

    entity: str
    file: str
    header: str
    column: str
    target: str
    transform: str
    confidence: float
    evidence: str


class Proposal(msgspec.Struct, frozen=True):
    """The proposed mapping, its columns lowest confidence first, and unplaced enum values."""

    mapping: Mapping
    columns: list[ColumnProposal]
    unplaced: dict[str, list[str]]


def _words(text: str, entity: str) -> str:
    raw = text.lower().replace("#", " number ").replace("%", " percent ").replace("e-mail", "email")
    tokens: list[str] = []
    for word in _WORD.findall(raw):
        tokens.extend(_ABBREVIATIONS.get(word, word).split())
    kept = [t for t in tokens if t not in _ENTITY_WORDS.get(entity, set())]
    if kept == ["number"] and len(tokens) > 1:
        kept = ["id"]  # `Claim #`: the file's own number is its ID
    return " ".join(kept or tokens)


def _header_score(entity: str, header: str, column: ColumnSpec) -> tuple[float, str]:
    names = (column.label, column.name.replace("_", " "), *column.aliases)
    key = header_key(header)
    for name in names:
        if header_key(name) == key:
            return 1.0, f"header is {name!r}"
    spelled = vocabulary_match(entity, header, column)
    if spelled is not None:
        return 0.95, spelled
    mine = _words(header, entity)
    best, best_name = 0.0, column.label
    for name in names:
        theirs = _words(name, entity)
        if mine == theirs:
            return 0.97, f"header ~ {name!r} (abbreviations)"
        score = 0.5 * fuzz.token_set_ratio(mine, theirs) + 0.5 * fuzz.token_sort_ratio(mine, theirs)
        if score / 100 > best:
            best, best_name = score / 100, name
    return best, f"header ~ {best_name!r} {best:.2f}"


class _Values(msgspec.Struct, frozen=True):
    """One header's sampled values, their profile, and the file whose keys they match."""

    values: list[str]
    profile: dict[str, float]
    reference: tuple[float, str] | None  # the best key-set match, when 90% or more


def _score(
    entity: str, header: str, column: ColumnSpec, sampled: _Values, keys: KeySets
) -> tuple[float, str]:
    header_score, header_words = _header_score(entity, header, column)
    values = sampled.values
    if not values:
        return header_score * 0.9, f"{header_words}; no values to profile"
    fit, fit_words = value_score(entity, column, values, sampled.profile)
    kind = expected_kind(entity, column)
    if kind == "text" and sampled.reference is not None:
        fit *= 0.5
        fit_words += f"; {sampled.reference[1]}"
    combined = 0.6 * header_score + 0.4 * fit
    if fit < 0.5 and kind not in ("text", "list"):
        combined *= 0.7
    found = _key_evidence(entity, column, values, keys)
    if found is not None:
        # A file's keys are strong evidence, outweighing the header; they only add to the
        # score, as a partial export (a delta) may refer to keys it does not hold.
        combined = max(combined, 0.45 * header_score + 0.55 * found[0])
        fit_words = found[1]
    return combined, f"{header_words}; values: {fit_words} of {len(values)}"


def _key_evidence(
    entity: str, column: ColumnSpec, values: list[str], keys: KeySets
) -> tuple[float, str] | None:
    spec = file_for_entity(entity)
    if column.is_pk and len(spec.pk) == 1 and column.type == "int":
        return key_fit(values)
    if column.fk:
        return keys.fit(column.fk, values)
    return None


def _reference(values: list[str], keys: KeySets) -> tuple[float, str] | None:
    best = None
    for target in keys.names():
        found = keys.fit(target, values)
        if found is not None and found[0] >= 0.9 and (best is None or found[0] > best[0]):
            best = found
    return best


def _sample(source: Source, entity: str, names: list[str]) -> dict[str, list[str]]:
    sample: dict[str, list[str]] = {name: [] for name in names}
    for row in islice(source.rows(entity), SAMPLE_ROWS):
        for name in names:
            value = row.values.get(name)
            if value is not None:
                sample[name].append(value)
    return sample


def _propose_file(
    source: Source, entity: str, keys: KeySets
) -> tuple[FileMapping, list[ColumnProposal]]:
    spec = file_for_entity(entity)
    headers = file_headers(source, entity)
    sample = _sample(source, entity, [name for _, name in headers])
    scored: list[tuple[float, str, str, str]] = []
    best_two: dict[str, list[float]] = {}
    for header, reader_name in headers:
        values = sample[reader_name]
        sampled = _Values(values, profile_values(values), _reference(values, keys))
        for column in spec.columns:
            score, evidence = _score(entity, header, column, sampled, keys)
            scored.append((score, header, column.name, evidence))
            best_two.setdefault(header, []).append(score)
    chosen: dict[str, tuple[str, float, str]] = {}
    taken: set[str] = set()
    for score, header, column_name, evidence in sorted(scored, reverse=True):
        if score >= 0.5 and header not in chosen and column_name not in taken:
            chosen[header] = (column_name, score, evidence)
            taken.add(column_name)
    file = FileMapping(file=describe_file(source, entity).name)
    file.target, file.plural = FILE_TARGETS[entity]
    proposals = []
    for header, _reader_name in headers:
        top = sorted(best_two[header], reverse=True)
        mapping = _column_mapping(entity, header, chosen.get(header), top, scored)
        file.columns.append(mapping)
        proposals.append(
            ColumnProposal(
                entity, file.file, header, mapping.column, mapping.target or "(ignored)",
                mapping.transform, mapping.confidence, mapping.evidence,
            )
        )  # fmt: skip
    return file, proposals


def _column_mapping(
    entity: str,
    header: str,
    choice: tuple[str, float, str] | None,
    top: list[float],
    scored: list[tuple[float, str, str, str]],
) -> ColumnMapping:
    if choice is None:
        best = max((s for s in scored if s[1] == header), default=None)
        guess = f" (best guess {best[2]} at {best[0]:.2f})" if best else ""
        return ColumnMapping(
            header=header,
            column="",
            transform="ignore",
            reason=f"no column of this file matches{guess}; map it by hand or keep it ignored",
            confidence=0.0,
            evidence=best[3] if best else "",
        )
    column_name, score, evidence = choice
    runner_up = top[1] if len(top) > 1 else 0.0
    margin = score - runner_up
    confidence = score - max(0.0, 0.1 - margin)
    if margin < 0.1:
        evidence += f"; runner-up {runner_up:.2f}"
    default = column_default(entity, column_name)
    assert default is not None
    fields = msgspec.structs.asdict(default)
    return ColumnMapping(
        header=header,
        confidence=round(max(0.0, min(1.0, confidence)), 2),
        evidence=evidence,
        **fields,
    )


# Files some column refers to: only their keys are worth a pass over the file.
_REFERENCED = {target for spec in FILES for target in spec.foreign_keys.values()}


def _remember_keys(source: Source, entity: str, file: FileMapping, keys: KeySets) -> None:
    """Keep the keys (and provider codes) of a proposed file, for the files that refer to it."""
    pk = file_for_entity(entity).pk
    wanted = {pk[0]: entity} if len(pk) == 1 and entity in _REFERENCED else {}
    if entity == "provider":
        wanted["code"] = "provider.code"
    names = dict(file_headers(source, entity))
    readers = {
        names[c.header]: wanted[c.column]
        for c in file.columns
        if c.column in wanted and c.header in names
    }
    if readers:
        keys.collect(file.file, readers, (row.values for row in source.rows(entity)))


def propose_mapping(source: Source) -> Proposal:
    """Propose a mapping for an export from its headers and a bounded sample of its values."""
    mapping = Mapping(source=source.location, value_maps=default_value_maps())
    columns: list[ColumnProposal] = []
    keys = KeySets()
    for entity in source.entities():
        file, proposals = _propose_file(source, entity, keys)
        _remember_keys(source, entity, file, keys)
        if entity in file_for_entity(entity).foreign_keys.values():
            # A file referring to itself (a patient's guarantor): propose again, its keys known.
            file, proposals = _propose_file(source, entity, keys)
            _remember_keys(source, entity, file, keys)
        mapping.files[entity] = file
        columns.extend(proposals)
    unplaced = propose_value_maps(source, mapping, SAMPLE_ROWS)
    columns.sort(key=lambda c: (c.confidence, c.entity, c.header))
    return Proposal(mapping, columns, unplaced)
