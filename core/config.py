"""The work directory's configuration, `ferry.toml`: one typed object passed down explicitly.

`ferry init` writes it; every other command reads it, and command-line options and
environment variables override it field by field. It never holds the API key, only the
name of the environment variable that does.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from pathlib import Path
from typing import Any, Literal

import msgspec

from core.errors import ConfigError

CONFIG_NAME = "ferry.toml"

ConflictPolicy = Literal["link", "skip", "fail"]
AUTO_BATCH_START = 200  # Twenty's QUERY_MAX_RECORDS: the most one batch create may carry


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
        sample_size: patients in `ferry sample`.
        chunk_size: source rows per local-stage batch (one store transaction each).
        max_rejected_share: the share of an entity's rows that may be rejected before a run
            ends `failed` instead of `completed` (0.05 = 5%; 0 tolerates none, 1 any).
    """

    on_conflict: ConflictPolicy = "link"
    placeholder_owner: str = ""
    sample_size: int = 300
    chunk_size: int = 2000
    max_rejected_share: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_rejected_share <= 1.0:
            raise ValueError("run.max_rejected_share must be a share between 0 and 1")


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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return msgspec.convert(raw, WorkspaceConfig)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
        raise ConfigError(f"{path}: {error}; fix the file or run `ferry init` again") from error


def override(config: WorkspaceConfig, **changes: Any) -> WorkspaceConfig:
    """The config with dotted fields replaced (`twenty.url=...`), ignoring None values."""
    twenty = {
        k.split(".", 1)[1]: v
        for k, v in changes.items()
        if k.startswith("twenty.") and v is not None
    }
    run = {
        k.split(".", 1)[1]: v for k, v in changes.items() if k.startswith("run.") and v is not None
    }
    top = {k: v for k, v in changes.items() if "." not in k and v is not None}
    return msgspec.structs.replace(
        config,
        twenty=msgspec.structs.replace(config.twenty, **twenty),
        run=msgspec.structs.replace(config.run, **run),
        **top,
    )


def render_config(config: WorkspaceConfig) -> str:
    """`ferry.toml` text for a config: commented, stable order."""
    lines = [
        "# Ferry work directory configuration (written by `ferry init`).",
        "# Options and environment variables override these values. The API key is never",
        "# stored here: it is read from the environment variable named by twenty.api_key_env.",
        f"source = {_toml(config.source)}",
        *(
            [
                "# Every Twenty id derives from this; never change it (see docs/runbook.md).",
                f"namespace = {_toml(config.namespace)}",
            ]
            if config.namespace
            else []
        ),
        "",
        "[twenty]",
    ]
    lines += [
        f"{name} = {_toml(getattr(config.twenty, name))}"
        for name in config.twenty.__struct_fields__
    ]
    lines += ["", "[run]"]
    lines += [
        f"{name} = {_toml(getattr(config.run, name))}" for name in config.run.__struct_fields__
    ]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return msgspec.json.encode(str(value)).decode()  # a JSON string is a valid TOML basic string


def write_config(workdir: Path, config: WorkspaceConfig) -> Path:
    """Write `ferry.toml` (owner-only) and return its path."""
    path = workdir / CONFIG_NAME
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render_config(config))
    return path
