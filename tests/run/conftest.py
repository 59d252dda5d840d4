"""Work directories ready to run: init, propose and confirm the mapping, apply the schema."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cli import ferry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec"
KEY_ENV = "FERRY_RUN_TEST_KEY"


def invoke(workdir: Path, *args: str) -> str:
    """Run a ferry command in-process; fail the test with its output when it fails."""
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])
    assert result.exit_code == 0, f"ferry {' '.join(args)}: {result.output}{result.exception!r}"
    return result.output


def prepare(
    workdir: Path, url: str, bundle: str = "small_cp1252", rate_limit: str = "1000/1s"
) -> Path:
    """A work directory on a fixture bundle, mapping confirmed, schema applied in the sandbox."""
    export = FIXTURES / bundle
    invoke(workdir, "init", "--source", str(export), "--twenty-url", url, "--api-key-env", KEY_ENV)
    config = workdir / "ferry.toml"
    text = config.read_text(encoding="utf-8").replace(
        'rate_limit = "100/60s"', f'rate_limit = "{rate_limit}"'
    )
    config.write_text(text, encoding="utf-8")
    invoke(workdir, "map", "propose", str(export))
    invoke(workdir, "map", "confirm", "--user", "tester")
    invoke(workdir, "schema", "apply", "--no-probe")
    return workdir


def copy_workdir(source: Path, target: Path) -> Path:
    """A copy of a prepared work directory: the same namespace, so the same Twenty ids."""
    shutil.copytree(source, target)
    return target


VOLATILE = frozenset({"updatedAt", "createdBy", "updatedBy", "position", "searchVector"})


def dump(
    rest_url: str, key: str, volatile: frozenset[str] = VOLATILE
) -> dict[str, dict[str, dict]]:
    """Every record of every object Ferry writes, by object and id, without volatile fields."""
    objects = [
        "companies",
        "people",
        "tasks",
        "notes",
        "taskTargets",
        "noteTargets",
        "treatments",
        "procedures",
        "insurances",
        "claims",
        "payments",
        "communications",
    ]
    content: dict[str, dict[str, dict]] = {}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=rest_url, headers=headers, timeout=30) as client:
        for plural in objects:
            records: dict[str, dict] = {}
            cursor = None
            while True:
                params = {"limit": "200", **({"starting_after": cursor} if cursor else {})}
                body = _get(client, f"/{plural}", params)
                for record in body["data"][plural]:
                    records[record["id"]] = {k: v for k, v in record.items() if k not in volatile}
                if not body["pageInfo"]["hasNextPage"]:
                    break
                cursor = body["pageInfo"]["endCursor"]
            content[plural] = records
    return content


def _get(client: httpx.Client, path: str, params: dict[str, str]) -> dict:
    """GET with retries: a faulty sandbox answers 429/503 or drops connections by design."""
    for _ in range(100):
        try:
            response = client.get(path, params=params)
        except httpx.TransportError:
            continue
        if response.status_code == 200:
            return response.json()
        time.sleep(0.2)
    raise AssertionError(f"{path} kept failing")


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def set_key(key: str) -> None:
        monkeypatch.setenv(KEY_ENV, key)

    return set_key
