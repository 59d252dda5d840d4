"""The work directory's configuration, `ferry.toml`: one typed object passed down explicitly.

`ferry init` writes it; every other command reads it, and command-line options and
environment variables override it field by field. It never holds the API key, only the
name of the environment variable that does.
"""

from __future__ import annotations

import os
import re
import tomllib
import uuid
from pathlib import Path
from typing import Any, Literal

import msgspec

from core.errors import ConfigError
from core.toml_text import toml_string, toml_value
from events.private_files import write_private

CONFIG_NAME = "ferry.toml"

ConflictPolicy = Literal["link", "skip", "fail"]
AUTO_BATCH_START = 200  # Twenty's QUERY_MAX_RECORDS: the most one batch create may carry

# What an environment variable's name looks like. A value given where a name is expected
# that does not look like one is most likely the secret itself: it is refused, and never
# echoed, written to ferry.toml or printed.
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_VARIABLE_NAME = 64
# A random token can fit the name pattern (`sk_live_4eC39HqLyjWDarjtT1zdp7dc`): one this
# long that mixes lower case, upper case and digits is taken for a key, not a name.
TOKEN_LIKE_LENGTH = 24


def is_variable_name(text: str) -> bool:
    """Whether `text` looks like an environment variable's name rather than a secret."""
    if len(text) > MAX_VARIABLE_NAME or not _VARIABLE_NAME.fullmatch(text):
        return False
    mixed = (
        any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and any(c.isdigit() for c in text)
    )
    return not (len(text) >= TOKEN_LIKE_LENGTH and mixed)


def check_variable_name(text: str, where: str) -> str:
    """`text` when it looks like an environment variable's name.

    Raises:
        ConfigError: naming `where` but never the value, which may be a key.
    """
    if not is_variable_name(text):
        raise ConfigError(
            f"{where} takes the NAME of an environment variable (letters, digits and _, e.g. "
            "TWENTY_API_KEY), and the value given looks like a key; export the key in a "
            "variable and give its name (the value is not shown and was not stored)"
        )
    return text


class TwentyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to reach Twenty and how hard to push it.

    Attributes:
        url: base URL of the workspace API.
        api_key_env: the environment variable that holds the API key.
        batch_size: records per batch create and upsert: a number (1 to 200; Cloud's docs
            advise 60), or `auto`: start at the largest Twenty takes (200, its
            QUERY_MAX_RECORDS), step down when Twenty refuses a batch as too large, and
            remember the size it took in the store, so a restart does not probe again.
        mutation_max_records: ids per delete-, destroy- and restore-many request (Twenty's
            code caps destroy-many at 200; the ids travel in the URL, ~39 bytes each).
        rate_limit: request budget windows, e.g. `100/60s` or `100/1s,100/60s`.
        max_in_flight: requests in flight at once.
        timeout_s: seconds before a request's outcome is treated as unknown.
    """

    url: str = "http://127.0.0.1:3000"
    api_key_env: str = "TWENTY_API_KEY"
    batch_size: int | Literal["auto"] = "auto"
    mutation_max_records: int = 100
    rate_limit: str = "100/60s"
    max_in_flight: int = 4
    timeout_s: float = 30.0

    def start_batch_size(self, learned: int | None) -> int:
        """The batch size to start with: the pinned number, else what `auto` learned (200
        before anything was learned)."""
        if self.batch_size != "auto":
            return self.batch_size
        return learned if learned is not None else AUTO_BATCH_START


class RunConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How runs behave.

    Attributes:
        on_conflict: what to do with a record that already exists in Twenty.
        placeholder_owner: email of the member who gets unmatched assignments ("" = none).
        sample_size: records (source rows) `ferry sample` aims at; 200 to 500 is what one
            person reads (a few more when parents join the last patients drawn).
        chunk_size: source rows per local-stage batch (one store transaction each).
        max_rejected_share: the share of an entity's rows that may be rejected before a run
            ends `failed` instead of `completed` (0.05 = 5%; 0 tolerates none, 1 any).
    """

    on_conflict: ConflictPolicy = "link"
    placeholder_owner: str = ""
    sample_size: int = 400
    chunk_size: int = 2000
    max_rejected_share: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_rejected_share <= 1.0:
            raise ValueError("run.max_rejected_share must be a share between 0 and 1")


class AnchorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the chain head is anchored outside the store (`ferry events anchor`).

    Attributes:
        key_env: the environment variable holding the HMAC key that signs anchors; when it
            is unset or empty, anchors are written unsigned.
    """

    key_env: str = "FERRY_ANCHOR_KEY"


class WorkspaceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything `ferry.toml` holds.

    Attributes:
        source: the export (a directory or a ZIP).
        namespace: the migration's id space (a UUID): every Twenty id derives from it. Kept
            here as well as in the store, so a store lost and rebuilt with `ferry init`
            derives the same ids and finds what is already in Twenty. Empty in work
            directories made before it was kept here (the store's then stands alone).
    """

    source: str
    namespace: str = ""

    def __post_init__(self) -> None:
        if self.namespace:
            try:
                uuid.UUID(self.namespace)
            except ValueError:
                raise ValueError("namespace must be a UUID, as `ferry init` wrote it") from None

    twenty: TwentyConfig = TwentyConfig()
    run: RunConfig = RunConfig()
    anchor: AnchorConfig = AnchorConfig()
    # The `[members]` table: provider code -> email of the workspace member who stands for
    # it, used instead of the export's email when matching (core.members).
    members: dict[str, str] = msgspec.field(default_factory=dict)

    def api_key(self) -> str:
        """The API key from the environment.

        Raises:
            ConfigError: when the variable is unset or empty.
        """
        key = os.environ.get(self.twenty.api_key_env, "")
        if not key:
            raise ConfigError(
                f"the API key is read from ${self.twenty.api_key_env}, which is not set; "
                "export it (the key is never written to any file)"
            )
        return key


def load_config(workdir: Path) -> WorkspaceConfig:
    """Read `ferry.toml` from the work directory.

    Raises:
        ConfigError: when it is missing or invalid (the message names the problem).
    """
    path = workdir / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"no {CONFIG_NAME} in {workdir}; run `ferry init --source EXPORT` first")
    text = path.read_text(encoding="utf-8")
    try:
        config = msgspec.convert(tomllib.loads(text), WorkspaceConfig)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
        raise ConfigError(f"{path}: {error}; fix the file or run `ferry init` again") from error
    for section, name in (("twenty", "api_key_env"), ("anchor", "key_env")):
        value = getattr(getattr(config, section), name)
        if not is_variable_name(value):
            where = f"{path} line {_line_of(text, name)}: {section}.{name}"
            check_variable_name(value, where)
    for code, email in config.members.items():
        problem = member_entry_problem(code, email)
        if problem:
            raise ConfigError(f"{path} line {_line_of(text, code, quoted=True)}: {problem}")
    return config


_PROVIDER_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


def member_entry_problem(code: str, email: str) -> str:
    """Why `members.<code> = <email>` cannot be used ("" when it can); names no value."""
    if not _PROVIDER_CODE.fullmatch(code.strip()):
        return (
            "a [members] key must be a provider code as in providers.csv's Code column "
            "(letters, digits, _ . -, e.g. DDS1)"
        )
    local, at, domain = email.strip().partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in email.strip()):
        return (
            f"members.{code.strip().upper()} takes the email of a workspace member "
            "(e.g. name@practice.example)"
        )
    return ""


def _line_of(text: str, key: str, *, quoted: bool = False) -> int:
    """The 1-based line where `key = ...` is set in a TOML text (0 when not found)."""
    keys = (key, f'"{key}"', f"'{key}'") if quoted else (key,)
    for number, line in enumerate(text.splitlines(), 1):
        for name in keys:
            if line.strip().startswith(name) and line.strip()[len(name) :].lstrip()[:1] == "=":
                return number
    return 0


def override(config: WorkspaceConfig, **changes: Any) -> WorkspaceConfig:
    """The config with dotted fields replaced (`twenty.url=...`), ignoring None values.

    Raises:
        ConfigError: when a variable name (`twenty.api_key_env`, `anchor.key_env`) looks
            like a key rather than a name; the value is not repeated.
    """

    def section(name: str) -> dict[str, Any]:
        prefix = name + "."
        return {
            k.removeprefix(prefix): v
            for k, v in changes.items()
            if k.startswith(prefix) and v is not None
        }

    twenty, run, anchor = section("twenty"), section("run"), section("anchor")
    for where, value in (("twenty.api_key_env", twenty), ("anchor.key_env", anchor)):
        name = value.get(where.split(".")[1])
        if name is not None:
            check_variable_name(name, where)
    top = {k: v for k, v in changes.items() if "." not in k and v is not None}
    return msgspec.structs.replace(
        config,
        twenty=msgspec.structs.replace(config.twenty, **twenty),
        run=msgspec.structs.replace(config.run, **run),
        anchor=msgspec.structs.replace(config.anchor, **anchor),
        **top,
    )


def render_config(config: WorkspaceConfig) -> str:
    """`ferry.toml` text for a config: commented, stable order."""
    lines = [
        "# Ferry work directory configuration (written by `ferry init`).",
        "# Options and environment variables override these values. The API key is never",
        "# stored here: it is read from the environment variable named by twenty.api_key_env.",
        f"source = {toml_value(config.source)}",
        *(
            [
                "# Every Twenty id derives from this; never change it (see docs/runbook.md).",
                f"namespace = {toml_value(config.namespace)}",
            ]
            if config.namespace
            else []
        ),
        "",
        "[twenty]",
    ]
    lines += [
        f"{name} = {toml_value(getattr(config.twenty, name))}"
        for name in config.twenty.__struct_fields__
    ]
    lines += ["", "[run]"]
    lines += [
        f"{name} = {toml_value(getattr(config.run, name))}" for name in config.run.__struct_fields__
    ]
    lines += ["", "[anchor]"]
    lines += [
        f"{name} = {toml_value(getattr(config.anchor, name))}"
        for name in config.anchor.__struct_fields__
    ]
    lines += [
        "",
        "# Provider code = email of the workspace member who stands for it, used instead of",
        "# the export's email (`ferry config set members.DDS1 name@practice.example`).",
        "[members]",
        *(
            f"{toml_string(code)} = {toml_value(email)}"
            for code, email in sorted(config.members.items())
        ),
    ]
    return "\n".join(lines) + "\n"


def write_config(workdir: Path, config: WorkspaceConfig) -> Path:
    """Write `ferry.toml` (owner-only) and return its path."""
    return write_private(workdir / CONFIG_NAME, render_config(config))
