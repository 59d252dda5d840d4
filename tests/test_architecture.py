"""The import arrows point one way: cli -> commands -> adapters -> core -> events.

events imports nothing of ours; core imports events but never adapters, commands, httpx, csv
or click; adapters import only core's contract modules (ports, config, errors, clock and the
pure Dental-Exec format and value parsers that the mapping shares) and never each other or
events; commands import core, adapters, events and the commands' shared modules, never cli
and never another command group.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"core", "adapters", "events", "commands", "cli"}
# The modules of core that adapters may import: the contracts between them.
ADAPTER_MAY_IMPORT_FROM_CORE = {
    "core.ports",
    "core.config",
    "core.errors",
    "core.clock",
    "core.export_format",
    "core.values",
}
CORE_FORBIDDEN_THIRD_PARTY = {"httpx", "csv", "click", "uvicorn", "starlette", "rich"}
# The modules of commands that the command groups share (everything else is one group).
COMMANDS_SHARED = {
    "commands.context",
    "commands.options",
    "commands.render",
    "commands.progress",
    "commands.anchors",
    "commands.target",
}
# A group that builds on another group's command: `sample` runs `run`, `report mapping` is
# `map show`.
COMMANDS_BUILT_ON = {"commands.sample": {"commands.run"}, "commands.report": {"commands.mapping"}}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; use absolute imports"
            assert node.module is not None
            names.append(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _adapter_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "adapters").parts
    return parts[0] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", _modules("events"), ids=lambda p: str(p.relative_to(ROOT)))
def test_events_import_nothing_of_ours(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[0] not in OURS - {"events"}, f"{path}: imports {name}"


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_only_events_and_itself(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in {"adapters", "commands", "cli"}, f"{path}: imports {name}"
        assert top not in CORE_FORBIDDEN_THIRD_PARTY, f"{path}: imports {name}"


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_import_only_core_contracts(path: Path) -> None:
    own = _adapter_of(path)
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in {"events", "commands", "cli"}, f"{path}: imports {name}"
        if top == "core":
            allowed = any(
                name == m or name.startswith(m + ".") for m in ADAPTER_MAY_IMPORT_FROM_CORE
            )
            assert allowed, f"{path}: imports {name}; adapters use core's contracts only"
        if top == "adapters" and name != "adapters":
            other = name.split(".")[1]
            assert other == own, f"{path}: imports {name}; adapters never import each other"


@pytest.mark.parametrize("path", _modules("commands"), ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_import_shared_modules_only(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    allowed = COMMANDS_SHARED | COMMANDS_BUILT_ON.get(module, set())
    for name in _imports(path):
        top = name.split(".")[0]
        assert top != "cli", f"{path}: imports {name}; cli builds the commands, not the reverse"
        if top == "commands" and name != "commands":
            assert name in allowed, f"{path}: imports {name}; share it through a shared module"


def test_cli_is_thin() -> None:
    lines = (ROOT / "cli.py").read_text(encoding="utf-8").count("\n")
    assert lines < 300, f"cli.py has {lines} lines; commands belong in commands/"
