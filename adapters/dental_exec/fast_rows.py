"""The fast path of row building: one function per header layout, generated from a template.

`RowBuilder.build` tries this first. Whenever a row is anything but plain (a reader problem,
a width other than the header's, any row error, a value holding CR, a key spelled oddly) the
function answers None and the general path builds the row, so every result is the general
path's: the fast path only skips work whose outcome is known. It is generated per layout
because Python runs straight-line code over locals (`v3 = f3.strip() or None`, a dict display
with constant keys) several times faster than loops over columns or zip/dict calls.
Typed values already validated are remembered per validator, bounded.

The content hash is SHA-256 of `msgspec.json.encode([[name, value], ...])` over the
non-empty values in name order. Here msgspec encodes a Struct with one field per name, keyed
`~name~`, blanks (None) omitted: `{"~a~":"x","~b~":"y"}`. Two replacements make that the list
form: `,"~` becomes `],["` and `~":"` becomes `","`. Both are exact: inside an encoded string
every `"` follows a backslash, a closing quote is followed by `,` `:` or `}`, and an opening
quote follows `{` `,` or `:`, so `,"~` only opens a key after the first, and `~":"` only
closes a key. Names must encode as themselves (no `"`, `\\`, `~`, unprintable). A value
holding CR (`\\r` in the text) is left to the general path, which folds the line endings of
multi-line rows first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from core.export_format import CODE_SETS
from core.ports.source import RowError, SourceRow
from core.values import ValueParseError

if TYPE_CHECKING:
    from adapters.dental_exec.rows import RowBuilder

FastBuild = Callable[[int, list[str]], SourceRow | None]

CACHE_LIMIT = 16_384  # validated values remembered per validator (bounded memory)
_DELETED_LIMIT = 256
_UNSAFE_NAME = frozenset('"\\~')
RECORD_TYPES = {name.lower(): name for name in CODE_SETS["custom_record_type"]}
_ENCODE = msgspec.json.Encoder().encode
_SHA256 = hashlib.sha256


def remember(good: set[str], text: str) -> None:
    """Add a validated text to a bounded cache (cleared when full; blank stays valid)."""
    if len(good) >= CACHE_LIMIT:
        good.clear()
        good.add("")
    good.add(text)


def _is_valid(good: set[str], validate: Callable[[str], object], text: str) -> bool:
    """Whether `validate` accepts `text` (remembered when it does)."""
    try:
        validate(text)
    except ValueParseError:
        return False
    remember(good, text)
    return True


def _content_hash(row: msgspec.Struct) -> str | None:
    """The content hash of a HashedRow (see the module docstring); None for a CR value."""
    encoded = _ENCODE(row)
    if b"\\" in encoded and b"\\r" in encoded:
        return None
    if len(encoded) == 2:  # {}: every value blank
        return _SHA256(b"[]").hexdigest()
    body = encoded[3:-1].replace(b',"~', b'],["').replace(b'~":"', b'","')
    return _SHA256(b'[["' + body + b"]]").hexdigest()


def _hashed_row(names: list[str]) -> type[msgspec.Struct] | None:
    """The Struct a row's hash is encoded from; None when a name rules the shortcut out."""
    if len(set(names)) != len(names) or any(
        not name.isprintable() or _UNSAFE_NAME.intersection(name) for name in names
    ):
        return None
    fields = [f"f{i}" for i in range(len(names))]
    return msgspec.defstruct(
        "HashedRow",
        [(field, str | None, None) for field in fields],
        rename={field: f"~{name}~" for field, name in zip(fields, names, strict=True)},
        omit_defaults=True,
        gc=False,
    )


class _Deleted:
    """The general path's soft-delete answer per distinct text of the deleted column."""

    def __init__(self, general: Callable[[dict[str, str | None]], bool]) -> None:
        self.general = general
        self.seen: dict[str | None, bool] = {}

    def learn(self, text: str | None, values: dict[str, str | None]) -> bool:
        """Ask the general path once per text (bounded)."""
        answer = self.general(values)
        if len(self.seen) < _DELETED_LIMIT:
            self.seen[text] = answer
        return answer


def compile_fast_build(builder: RowBuilder) -> FastBuild | None:
    """The fast row function of one file's layout; None when the layout does not allow one."""
    shape = _hashed_row(builder.hash_names)
    if shape is None or not builder.hash_names:
        return None
    at = {name: i for i, name in enumerate(builder.names) if name}
    namespace: dict[str, Any] = {
        "SourceRow": SourceRow,
        "RowError": RowError,
        "shape": shape,
        "encode": _ENCODE,
        "sha256": _SHA256,
        "EMPTY": _SHA256(b"[]").hexdigest(),
        "is_valid": _is_valid,
        "entity": builder.entity,
        "file": builder.file,
        "key_of": builder.key_of,
        "RECORD_TYPES": RECORD_TYPES,
    }
    lines = _source(builder, at, namespace)
    exec(compile("\n".join(lines), f"<fast row: {builder.file}>", "exec"), namespace)
    build: FastBuild = namespace["build"]
    return build


def _source(builder: RowBuilder, at: dict[str, int], namespace: dict[str, Any]) -> list[str]:
    """The generated function's lines: unpack, strip, check, values, key, hash, row."""
    targets = ", ".join(f"f{i}" if name else "_" for i, name in enumerate(builder.names))
    lines = ["def build(line, fields):", f"    ({targets},) = fields"]
    lines += [f"    v{i} = f{i}.strip() or None" for i in at.values()]
    lines += _checks(builder, at, namespace)
    pairs = ", ".join(f"{name!r}: v{i}" for name, i in at.items())
    lines.append(f"    values = {{{pairs}}}")
    lines += _key(builder, at)
    ints = set(builder.int_names)
    hashed = []
    for name in builder.hash_names:
        v = f"v{at[name]}"
        if name in ints:  # a zero-padded ID hashes as its integer, like the general path
            padded = f"{v} is not None and {v}[:1] == '0' and {v}.isdecimal()"
            v = f"(str(int({v})) if {padded} else {v})"
        hashed.append(v)
    lines += [
        f"    encoded = encode(shape({', '.join(hashed)}))",
        # The body of _content_hash, inlined: one call less per row.
        "    if b'\\\\' in encoded and b'\\\\r' in encoded:",
        "        return None",
        "    if len(encoded) == 2:",
        "        digest = EMPTY",
        "    else:",
        "        body = encoded[3:-1].replace(b',\"~', b'],[\"').replace(b'~\":\"', b'\",\"')",
        "        digest = sha256(b'[[\"' + body + b']]').hexdigest()",
    ]
    lines += _deleted(builder, at, namespace)
    lines.append("    return SourceRow(entity, file, line, key, digest, values, (), deleted)")
    return lines


def _checks(builder: RowBuilder, at: dict[str, int], namespace: dict[str, Any]) -> list[str]:
    """Bail out on a missing required value, a bad whole number or a bad typed value."""
    lines = []
    if builder.required:
        missing = " or ".join(f"v{at[n]} is None" for n in builder.required)
        lines.append(f"    if {missing}:\n        return None")
    for name in builder.int_checked:
        v = f"v{at[name]}"
        lines.append(f"    if {v} is not None and not {v}.isdecimal():\n        return None")
    validators: dict[Callable[[str], object], int] = {}
    for name, validate in builder.typed_required:
        n = validators.setdefault(validate, len(validators))
        namespace[f"good{n}"], namespace[f"validate{n}"] = builder.good[validate], validate
        v = f"v{at[name]}"
        lines.append(
            f"    if {v} is not None and {v} not in good{n} "
            f"and not is_valid(good{n}, validate{n}, {v}):\n        return None"
        )
    return lines


def _key(builder: RowBuilder, at: dict[str, int]) -> list[str]:
    """The source key as `key_of` makes it; odd spellings and errors go to the general path."""
    if builder.single_int_pk is not None:
        v = f"v{at[builder.single_int_pk]}"
        return [
            f"    key = {v}",
            f"    if {v} is None or {v}[:1] == '0' or not {v}.isdecimal():",
            f"        if {v} is None or not ({v}.isascii() and {v}.isdecimal() and int({v})):",
            "            return None",
            f"        key = str(int({v}))",
        ]
    if any(name not in at for name in builder.spec.pk):
        return [
            "    errors = []",
            "    key = key_of(line, values, errors)",
            "    if key is None or errors:\n        return None",
        ]
    lines, parts = [], []
    for n, name in enumerate(builder.spec.pk):
        v = f"v{at[name]}"
        lines.append(f"    if {v} is None:\n        return None")
        if name in builder.int_columns:
            lines.append(f"    if not ({v}.isascii() and {v}.isdecimal() and int({v})):")
            lines.append("        return None")
            parts.append(f"{{int({v})}}")
        elif name == "record_type":
            lines.append(f"    k{n} = RECORD_TYPES.get({v}.lower(), {v})")
            parts.append(f"{{k{n}}}")
        elif name == "field_key":
            parts.append(f"{{{v}.upper()}}")
        else:
            parts.append(f"{{{v}}}")
    lines.append(f'    key = f"{":".join(parts)}"')
    return lines


def _deleted(builder: RowBuilder, at: dict[str, int], namespace: dict[str, Any]) -> list[str]:
    """Soft-deleted: a patient's Status, else the deleted column's answer per text."""
    if builder.entity == "patient":
        if "status" not in at:
            return ["    deleted = False"]
        v = f"v{at['status']}"
        return [f"    deleted = {v} is not None and {v}.lower() == 'deleted'"]
    if builder.deleted is None:
        return ["    deleted = False"]
    cache = _Deleted(builder.is_deleted)
    namespace["seen"], namespace["learn"] = cache.seen, cache.learn
    v = f"v{at[builder.deleted]}"
    return [f"    deleted = seen[{v}] if {v} in seen else learn({v}, values)"]
