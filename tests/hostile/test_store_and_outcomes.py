"""Hostile conditions around the store and a run's outcome.

No failure is reported as success (rejections past the threshold, writes Twenty refuses,
nothing loaded); a damaged, missing, read-only or busy store is one clear line, never a
traceback; a store deleted or replaced under a run stops it; a store rebuilt after a loss
makes the same ids, so nothing is created twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from adapters.twenty_sandbox import SandboxHandle
from cli import ferry, main
from tests.conftest import SANDBOX_TEST_KEY, SandboxProcess
from tests.run.conftest import FIXTURES, KEY_ENV, dump, invoke, prepare

REPO = Path(__file__).resolve().parents[2]
COMMANDS = {
    "run": ["run", "--without-sample-approval"],
    "verify": ["verify"],
    "status": ["status"],
    "events-list": ["events", "list"],
    "events-verify": ["events", "verify"],
}


# --- helpers --------------------------------------------------------------------------------


def ferry_cli(workdir: Path, *args: str) -> tuple[int, str, str]:
    """A command through `cli.main`, as the console script runs it: code, stdout, stderr."""
    runner = CliRunner()
    with runner.isolation() as streams:
        out, err = streams[0], streams[1]
        try:
            main(["--workdir", str(workdir), *args])
            code = 0
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 1
    return code, out.getvalue().decode(), err.getvalue().decode()


def assert_one_line_error(err: str, *names: str, progress: bool = False) -> None:
    """One `Error:` line naming each of `names`, and no traceback (with `progress`, the
    run's progress bars may stand above it on stderr)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    if progress:
        lines = [line for line in lines if not line.startswith(("local ", "load ", "resume "))]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for name in names:
        assert name in lines[0], (name, err)


def export_with(tmp_path: Path, patient_ids: Callable[[int, str], str]) -> Path:
    """A copy of the small UTF-8 export with `Patient ID` rewritten row by row."""
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "small_utf8", export)
    path = export / "patients.csv"
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("Patient ID")
    for number, row in enumerate(rows[1:]):
        row[column] = patient_ids(number, row[column])
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig", newline="")
    return export


def prepare_export(workdir: Path, url: str, export: Path) -> Path:
    """`prepare` for an export outside the fixtures folder."""
    invoke(workdir, "init", "--source", str(export), "--twenty-url", url, "--api-key-env", KEY_ENV)
    config = workdir / "ferry.toml"
    text = config.read_text(encoding="utf-8").replace('"100/60s"', '"1000/1s"')
    config.write_text(text, encoding="utf-8")
    invoke(workdir, "map", "propose", str(export))
    invoke(workdir, "map", "confirm", "--user", "tester")
    invoke(workdir, "schema", "apply", "--no-probe")
    return workdir


def run_finished(workdir: Path) -> list[dict]:
    with sqlite3.connect(workdir / "ferry.db") as conn:
        rows = conn.execute("SELECT data FROM events WHERE type = 'RunFinished' ORDER BY position")
        return [json.loads(data) for (data,) in rows]


def set_in_config(workdir: Path, section: str, line: str) -> None:
    """Set one `key = value` line of a ferry.toml section (replacing the key's line)."""
    config = workdir / "ferry.toml"
    key = line.split("=")[0].strip()
    lines = [
        existing
        for existing in config.read_text(encoding="utf-8").splitlines()
        if existing.split("=")[0].strip() != key
    ]
    at = lines.index(f"[{section}]") + 1
    config.write_text("\n".join([*lines[:at], line, *lines[at:]]) + "\n", encoding="utf-8")


def counts(handle_rest_url: str, key: str) -> dict[str, int]:
    return {plural: len(records) for plural, records in dump(handle_rest_url, key).items()}


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def set_key(key: str) -> None:
        monkeypatch.setenv(KEY_ENV, key)

    return set_key


# --- 1. no failure reported as success ------------------------------------------------------


def test_every_patient_without_a_key_fails_the_run_and_status_says_why(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    export = export_with(tmp_path, lambda number, key: "")
    workdir = prepare_export(tmp_path / "wd", twenty_sandbox.base_url, export)
    result = CliRunner().invoke(
        ferry, ["--workdir", str(workdir), "run", "--without-sample-approval"]
    )
    assert result.exit_code == 1, result.output
    assert ": failed" in result.output and "completed" not in result.output
    assert "not done: patient: 18 of 18 row(s) rejected (100.0%" in result.output
    assert "MISSING_REQUIRED 18" in result.output  # the code, never a value from the rows
    assert "appointment: 15 of 16 row(s) rejected" in result.output  # orphans count too
    finished = run_finished(workdir)[-1]
    assert finished["outcome"] == "failed" and "patient: 18 of 18" in finished["message"]
    status = invoke(workdir, "status")
    assert ": failed" in status and "why: patient: 18 of 18 row(s) rejected" in status
    status_json = json.loads(invoke(workdir, "status", "--json"))
    assert any("MISSING_REQUIRED" in reason for reason in status_json["why_failed"])


def test_one_rejection_in_eighteen_passes_the_default_threshold(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    export = export_with(tmp_path, lambda number, key: "" if number == 0 else key)
    workdir = prepare_export(tmp_path / "wd", twenty_sandbox.base_url, export)
    result = CliRunner().invoke(
        ferry, ["--workdir", str(workdir), "run", "--without-sample-approval"]
    )
    assert result.exit_code == 1, result.output
    assert "patient: 1 of 18 row(s) rejected (5.6%, over run.max_rejected_share = 0.05" in (
        result.output
    )
    # Everything else was loaded: the threshold fails the run, it does not hold records back.
    assert counts(twenty_sandbox.rest_url, twenty_sandbox.api_key)["people"] == 16
    # A threshold raised in ferry.toml (the patient's own rows are rejected as orphans too:
    # a third of the claims) accepts the same export: the next run completes.
    set_in_config(workdir, "run", "max_rejected_share = 0.5")
    again = CliRunner().invoke(
        ferry, ["--workdir", str(workdir), "run", "--without-sample-approval"]
    )
    assert again.exit_code == 0, again.output
    assert run_finished(workdir)[-1]["outcome"] == "completed"


def test_twenty_refusing_every_write_fails_the_run(
    start_sandbox: Callable[..., SandboxHandle], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    first = start_sandbox(db_path=tmp_path / "sandbox.db")
    key_env(first.api_key)
    workdir = prepare(tmp_path / "wd", first.base_url)
    refusing = start_sandbox(db_path=tmp_path / "sandbox.db", fail_writes=1.0)
    args = ["run", "--without-sample-approval", "--twenty-url", refusing.base_url]
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])
    assert result.exit_code == 1, result.output
    assert "not done: writes failed:" in result.output
    assert "not done: nothing was loaded: 0 of" in result.output
    assert counts(refusing.rest_url, refusing.api_key)["people"] == 0
    finished = run_finished(workdir)[-1]
    assert finished["outcome"] == "failed" and "writes failed" in finished["message"]
    assert "why: writes failed" in invoke(workdir, "status")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("max_rejected_share = 2.0", "must be a share between 0 and 1"),
        ('max_rejected_share = "five"', "Expected `float`, got `str`"),
    ],
    ids=["share-over-one", "share-not-a-number"],
)
def test_a_bad_threshold_is_one_line(tmp_path: Path, line: str, says: str) -> None:
    workdir = tmp_path / "wd"
    invoke(workdir, "init", "--source", str(FIXTURES / "small_utf8"))
    set_in_config(workdir, "run", line)
    code, _, err = ferry_cli(workdir, "run", "--without-sample-approval")
    assert code == 1
    assert_one_line_error(err, "ferry.toml", "max_rejected_share", says)


# --- 2. a damaged, missing, read-only or busy store is one line --------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _foreign_sqlite(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\0" * 50)


def _damaged_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for offset in range(page, len(data), page):  # every page but the first (the schema)
        data[offset : offset + page] = b"\xa5" * min(page, len(data) - offset)
    path.write_bytes(bytes(data))


DAMAGES = {
    "garbage": _garbage,
    "foreign-sqlite": _foreign_sqlite,
    "truncated": _truncated,
    "damaged-pages": _damaged_pages,
}


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    """An initialised work directory (no Twenty needed), its store closed and checkpointed."""
    workdir = tmp_path / "wd"
    invoke(workdir, "init", "--source", str(FIXTURES / "small_utf8"))
    return workdir


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_a_damaged_store_is_one_line_for_every_command(
    initialised: Path, damage: str, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWENTY_API_KEY", "unused")
    store = initialised / "ferry.db"
    DAMAGES[damage](store)
    before = store.read_bytes()
    code, _, err = ferry_cli(initialised, *COMMANDS[command])
    assert code == 1
    assert_one_line_error(err, str(store))
    assert "restore it from a backup" in err or "not a Ferry store; give the work" in err
    assert store.read_bytes() == before  # nothing was written into it


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_missing_store_is_one_line_naming_it(
    initialised: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWENTY_API_KEY", "unused")
    (initialised / "ferry.db").unlink()
    code, _, err = ferry_cli(initialised, *COMMANDS[command])
    assert code == 1
    assert_one_line_error(err, "ferry.db", "ferry init", "same --source", "namespace")
    assert not (initialised / "ferry.db").exists()  # not silently re-created empty


def test_a_namespace_that_is_not_a_uuid_is_one_line(initialised: Path) -> None:
    config = initialised / "ferry.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index('namespace = "')
    end = text.index('"', start + 13)
    config.write_text(text[:start] + 'namespace = "not-a-uuid' + text[end:], encoding="utf-8")
    code, _, err = ferry_cli(initialised, "run", "--without-sample-approval")
    assert code == 1
    assert_one_line_error(err, "ferry.toml", "namespace")


def test_a_store_from_another_work_directory_is_refused(initialised: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    invoke(other, "init", "--source", str(FIXTURES / "small_utf8"))
    shutil.copy(other / "ferry.db", initialised / "ferry.db")
    code, _, err = ferry_cli(initialised, "run", "--without-sample-approval")
    assert code == 1
    assert_one_line_error(err, "ferry.toml", "ferry.db", "ids would not match")


# Read-only places. Root writes through file modes (CAP_DAC_OVERRIDE), so as root the command
# runs without that capability (`setpriv`), as an ordinary owner would.
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def _public_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ferry-hostile-"))
    try:
        yield path
    finally:
        for root, dirs, _ in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
        shutil.rmtree(path)


public_dir = pytest.fixture(_public_dir)


def as_unprivileged(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ferry ARGS` in a subprocess that file modes bind (root without its override)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file modes cannot bind")
        prefix = WITHOUT_OVERRIDE
    command = [*prefix, sys.executable, str(REPO / "cli.py"), "--workdir", str(workdir), *args]
    env = {**os.environ, "TWENTY_API_KEY": "unused"}
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_init_into_a_read_only_folder_is_one_line(public_dir: Path) -> None:
    locked = public_dir / "locked"
    locked.mkdir(mode=0o555)
    workdir = locked / "wd"
    done = as_unprivileged(workdir, "init", "--source", str(FIXTURES / "small_utf8"))
    assert done.returncode == 1, done.stderr
    assert_one_line_error(done.stderr, str(workdir), "write")
    assert not workdir.exists()


def test_init_into_a_read_only_work_directory_is_one_line(public_dir: Path) -> None:
    workdir = public_dir / "wd"
    workdir.mkdir()
    workdir.chmod(0o555)
    done = as_unprivileged(workdir, "init", "--source", str(FIXTURES / "small_utf8"))
    assert done.returncode == 1, done.stderr
    assert_one_line_error(done.stderr, str(workdir))
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "status", "events-list"])
def test_a_read_only_store_is_one_line(public_dir: Path, command: str) -> None:
    workdir = public_dir / "wd"
    invoke(workdir, "init", "--source", str(FIXTURES / "small_utf8"))
    (workdir / "ferry.db").chmod(0o400)
    before = (workdir / "ferry.db").read_bytes()
    done = as_unprivileged(workdir, *COMMANDS[command])
    assert done.returncode == 1, done.stderr
    assert_one_line_error(done.stderr, "ferry.db", "read-only")
    assert (workdir / "ferry.db").read_bytes() == before


# --- 2b, 3. runs in subprocesses: a busy work directory, a store pulled from under a run ------


def _slow_sandbox(
    start_sandbox_process: Callable[..., SandboxProcess], tmp_path: Path
) -> tuple[Path, SandboxProcess]:
    """A prepared work directory and a sandbox that answers slowly (runs last seconds)."""
    db = tmp_path / "sandbox.db"
    quick = start_sandbox_process(db_path=db)
    workdir = prepare(tmp_path / "wd", quick.base_url)
    quick.stop()
    return workdir, start_sandbox_process("--latency-ms", "150", db_path=db)


def _start_run(workdir: Path, sandbox: SandboxProcess) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        str(REPO / "cli.py"),
        "--workdir",
        str(workdir),
        "run",
        "--without-sample-approval",
        "--twenty-url",
        sandbox.base_url,
        "--rate-limit",
        "4/1s",
    ]
    env = {**os.environ, KEY_ENV: sandbox.api_key}
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_run_id(workdir: Path, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            holder = json.loads((workdir / "ferry.lock").read_text() or "{}")
        except (FileNotFoundError, json.JSONDecodeError):
            holder = {}
        if holder.get("run_id"):
            return str(holder["run_id"])
        time.sleep(0.05)
    raise AssertionError("the run never named itself in ferry.lock")


def test_a_second_run_at_once_says_which_run_holds_the_directory(
    start_sandbox_process: Callable[..., SandboxProcess],
    key_env: Callable[[str], None],
    tmp_path: Path,
) -> None:
    key_env(SANDBOX_TEST_KEY)
    workdir, sandbox = _slow_sandbox(start_sandbox_process, tmp_path)
    first = _start_run(workdir, sandbox)
    try:
        run_id = _wait_for_run_id(workdir, first)
        second = _start_run(workdir, sandbox)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1, err
        assert_one_line_error(err, str(workdir), f"run {run_id}", f"process {first.pid}")
        assert "Nothing was written" in err
        _, first_err = first.communicate(timeout=240)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, first_err
    with sqlite3.connect(workdir / "ferry.db") as conn:
        started = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'RunStarted'")
        assert started.fetchone()[0] == 1  # the refused run wrote nothing, not even its start
    people = counts(sandbox.rest_url, sandbox.api_key)["people"]
    assert people == 17


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_pulled_from_under_a_run_stops_it(
    start_sandbox_process: Callable[..., SandboxProcess],
    key_env: Callable[[str], None],
    tmp_path: Path,
    how: str,
) -> None:
    key_env(SANDBOX_TEST_KEY)
    workdir, sandbox = _slow_sandbox(start_sandbox_process, tmp_path)
    store = workdir / "ferry.db"
    spare = tmp_path / "spare.db"
    shutil.copy(store, spare)
    process = _start_run(workdir, sandbox)
    try:
        _wait_for_run_id(workdir, process)
        time.sleep(0.3)
        if how == "deleted":
            store.unlink()
        else:
            os.replace(spare, store)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, err
    assert_one_line_error(err, str(store), f"was {how}", "ferry init", progress=True)


def test_a_store_lost_and_rebuilt_creates_nothing_twice(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url)
    invoke(workdir, "run", "--without-sample-approval")
    before = counts(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    assert before["taskTargets"] > 0 and before["noteTargets"] > 0
    (workdir / "ferry.db").unlink()  # the log (-wal) may stay behind, as after a careless rm
    export = FIXTURES / "small_cp1252"
    url = twenty_sandbox.base_url
    invoke(workdir, "init", "--source", str(export), "--twenty-url", url, "--api-key-env", KEY_ENV)
    invoke(workdir, "map", "confirm", "--user", "tester")
    invoke(workdir, "schema", "apply", "--no-probe")
    httpx.post(f"{url}/_sandbox/stats/reset").raise_for_status()
    output = invoke(workdir, "run", "--without-sample-approval")
    assert "completed" in output
    stats = httpx.get(f"{url}/_sandbox/stats").json()
    # Every record was found by its id with one read per batch: not one create was sent.
    assert stats["byMethod"].get("POST", 0) == 0, stats
    assert counts(twenty_sandbox.rest_url, twenty_sandbox.api_key) == before
    with sqlite3.connect(workdir / "ferry.db") as conn:
        left = conn.execute(
            "SELECT COUNT(*) FROM record_state WHERE state IN ('validated', 'load_failed')"
        ).fetchone()[0]
    assert left == 0  # every record found in Twenty by its id, none left failed


@pytest.mark.parametrize("command", ["run", "status"])
def test_a_read_only_work_directory_is_one_line(public_dir: Path, command: str) -> None:
    workdir = public_dir / "wd"
    invoke(workdir, "init", "--source", str(FIXTURES / "small_utf8"))
    workdir.chmod(0o555)
    done = as_unprivileged(workdir, *COMMANDS[command])
    assert done.returncode == 1, done.stderr
    assert_one_line_error(done.stderr, str(workdir))
    assert "read-only" in done.stderr or "cannot write" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("rollback", "--yes"),
        ("delta", str(FIXTURES / "delta_cp1252")),
    ],
    ids=["rollback", "delta"],
)
def test_rollback_and_delta_are_refused_while_another_command_holds_the_directory(
    twenty_sandbox: SandboxHandle,
    key_env: Callable[[str], None],
    tmp_path: Path,
    args: tuple[str, ...],
) -> None:
    from core.run_lock import hold_workdir

    key_env(twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url)
    invoke(workdir, "run", "--without-sample-approval")
    with sqlite3.connect(workdir / "ferry.db") as conn:
        before = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    with hold_workdir(workdir, "run", "2026-01-01T00:00:00+00:00"):
        code, _, err = ferry_cli(workdir, *args)
    assert code == 1, err
    assert_one_line_error(err, str(workdir), "is in use by", "Nothing was written")
    with sqlite3.connect(workdir / "ferry.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before
