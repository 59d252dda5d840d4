"""Change one setting of `ferry.toml` (`ferry config set`) and list them (`ferry config show`).

A setting is named by its dotted key (`run.placeholder_owner`, `twenty.batch_size`,
`members.DDS1`). A value is checked before anything is written: a wrong one is refused with
what the setting takes, and the file is left as it was. Messages never repeat the value, which
might be a key pasted in the wrong place. The file is rewritten whole, owner-only and valid
TOML (core.config.write_config). The namespace and the source are fixed by `ferry init`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from core.config import (
    WorkspaceConfig,
    check_variable_name,
    load_config,
    member_entry_problem,
    write_config,
)
from core.errors import ConfigError
from core.members import normalise_code, normalise_email
from core.rate_limit import parse_windows

__all__ = ["SETTINGS", "save_setting", "set_setting", "setting_lines"]

_SECTIONS = ("twenty", "run", "anchor")
_URL = re.compile(r"https?://[^\s/?#]+(/\S*)?")


def _whole(low: int, high: int | None = None) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and v >= low and (high is None or v <= high)


def _rate(value: Any) -> bool:
    try:
        parse_windows(str(value))
    except ConfigError:
        return False
    return True


# key -> (what it takes, a check the value must pass after conversion to the field's type)
SETTINGS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "twenty.url": ("an http:// or https:// URL", lambda v: bool(_URL.fullmatch(v))),
    "twenty.api_key_env": ("the NAME of an environment variable", lambda v: True),
    "twenty.batch_size": (
        "`auto` or a whole number from 1 to 200",
        lambda v: v == "auto" or _whole(1, 200)(v),
    ),
    "twenty.mutation_max_records": ("a whole number from 1 to 200", _whole(1, 200)),
    "twenty.rate_limit": ("request windows such as 100/60s or 100/1s,100/60s", _rate),
    "twenty.max_in_flight": ("a whole number from 1 to 64", _whole(1, 64)),
    "twenty.timeout_s": ("a number of seconds above 0", lambda v: 0 < v <= 3600),
    "run.on_conflict": ("one of link, skip, fail", lambda v: True),
    "run.placeholder_owner": (
        'the email of a workspace member, or "" for none',
        lambda v: v == "" or (normalise_email(v) is not None and not member_entry_problem("X", v)),
    ),
    "run.sample_size": ("a whole number of patients, at least 1", _whole(1)),
    "run.chunk_size": ("a whole number of rows, at least 1", _whole(1)),
    "run.max_rejected_share": ("a share from 0 to 1 (0.05 = 5%)", lambda v: True),
    "anchor.key_env": ("the NAME of an environment variable", lambda v: True),
    "members.<CODE>": ('the email of a workspace member, or "" to remove the entry', bool),
}


def set_setting(config: WorkspaceConfig, key: str, value: str) -> WorkspaceConfig:
    """The config with one setting changed, checked.

    Raises:
        ConfigError: an unknown or fixed key, or a value the setting does not take.
    """
    key = key.strip()
    if key.lower().startswith("members."):
        return _set_member(config, key.split(".", 1)[1], value)
    if key in ("source", "namespace"):
        raise ConfigError(f"{key} is fixed by `ferry init` and cannot be set; nothing was changed")
    if key not in SETTINGS:
        raise ConfigError(
            "unknown setting; the settings are: "
            + ", ".join(SETTINGS)
            + " (see `ferry config show`); nothing was changed"
        )
    section, name = key.split(".")
    takes, check = SETTINGS[key]
    if name.endswith("key_env"):
        check_variable_name(value, key)
    current = getattr(config, section)
    data = msgspec.to_builtins(current)
    data[name] = value.strip()
    try:
        changed = msgspec.convert(data, type(current), strict=False)
    except (msgspec.ValidationError, ValueError):
        changed = None
    if changed is None or not check(getattr(changed, name)):
        raise ConfigError(f"{key} takes {takes}; nothing was changed")
    return msgspec.structs.replace(config, **{section: changed})


def _set_member(config: WorkspaceConfig, code: str, value: str) -> WorkspaceConfig:
    code = normalise_code(code)
    members = {c: e for c, e in config.members.items() if normalise_code(c) != code}
    if value.strip():
        problem = member_entry_problem(code, value)
        if problem:
            raise ConfigError(f"{problem}; nothing was changed")
        members[code] = value.strip()
    return msgspec.structs.replace(config, members=members)


def save_setting(workdir: Path, key: str, value: str) -> WorkspaceConfig:
    """Change one setting in the work directory's `ferry.toml` and return the new config.

    Raises:
        ConfigError: no or an invalid ferry.toml, or a setting refused by `set_setting`.
    """
    changed = set_setting(load_config(workdir), key, value)
    write_config(workdir, changed)
    return changed


def setting_lines(config: WorkspaceConfig, environ: Mapping[str, str]) -> list[str]:
    """`key = value` lines for every setting; a variable's name says whether it is set, and
    the secret it holds is never read out."""
    lines = [f"source = {config.source}", f"namespace = {config.namespace or '(none)'}"]
    for section in _SECTIONS:
        values = getattr(config, section)
        for name in values.__struct_fields__:
            value = getattr(values, name)
            if name.endswith("key_env"):
                value = f"{value} ({'set' if environ.get(value) else 'not set'})"
            elif value == "":
                value = "(none)"
            lines.append(f"{section}.{name} = {value}")
    lines += [f"members.{code} = {email}" for code, email in sorted(config.members.items())]
    return lines
