"""Hostile conditions around secrets and protected health information.

- Every file and folder Ferry writes is owner-only whatever the umask (a real flow run as
  subprocesses under `umask 000` against the sandbox over loopback).
- `ferry events list` keeps patient values out of its output unless `--show-data`.
- An API key passed where a variable's NAME belongs is refused, never echoed or stored.
- A log whose chain was recomputed after an edit passes `ferry events verify` but fails
  `ferry events verify --anchor FILE`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.twenty_sandbox import SandboxConfig, running_sandbox
from cli import ferry
from core.lifecycle import Lifecycle
from events.store import GENESIS_HASH, EventStore, NewEvent, chain_hash
from events.types import (
    FieldDiff,
    LoadRequested,
    RecordExtracted,
    RecordLoaded,
    RecordTransformed,
    RecordValidated,
    RunStarted,
    VerificationFailed,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "dental_exec"
KEY_ENV = "FERRY_SEC_TEST_KEY"
SANDBOX_KEY = "sec-test-key"

# Patient values planted in the events: none may appear in output unless asked for.
NAME, EMAIL, PHONE = "Quixotica", "quixotica@patients.example", "+1 555 0199 321"
STREET, BIRTH = "17 Cerulean Lane", "1961-04-23"
PATIENT_VALUES = (NAME, EMAIL, PHONE, STREET, BIRTH)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyMDI1LTAxIiwid29ya3NwYWNlSWQiOiJ3cyJ9."
    "Rk9SR0VEX1NJR05BVFVSRV9GT1JfVEVTVFM"
)


def _cli(*args: str, umask: int = 0, env: dict[str, str] | None = None) -> str:
    """Run `ferry` in a child process under `umask`; its output, failing on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, str(REPO / "cli.py"), *args],
        cwd=REPO,
        env={**os.environ, KEY_ENV: SANDBOX_KEY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        umask=umask,
        check=False,
    )
    assert done.returncode == 0, f"ferry {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 1. owner-only files under umask 000 ------------------------------------------------------


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The operator's flow under umask 000: init, audit, map, schema, run, delta, rollback,
    anchor and replay exports; the work directory is `flow / "wd"`."""
    base = tmp_path_factory.mktemp("umask")
    wd, export = base / "wd", FIXTURES / "small_cp1252"
    with running_sandbox(SandboxConfig(api_key=SANDBOX_KEY)) as sandbox:
        ferry_in = ("--workdir", str(wd))
        _cli(*ferry_in, "init", "--source", str(export), "--twenty-url", sandbox.base_url,
             "--api-key-env", KEY_ENV)  # fmt: skip
        config = wd / "ferry.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('"100/60s"', '"1000/1s"'), encoding="utf-8")
        _cli("source", "audit", str(export), "--out", str(wd / "reports" / "source-audit.md"))
        _cli(*ferry_in, "map", "propose", str(export))
        _cli(*ferry_in, "map", "confirm", "--user", "tester")
        _cli(*ferry_in, "schema", "apply", "--no-probe")
        _cli(*ferry_in, "run", "--without-sample-approval")
        _cli(*ferry_in, "delta", str(FIXTURES / "delta_cp1252"))
        _cli(*ferry_in, "rollback", "--yes")
        _cli(*ferry_in, "events", "anchor", "--out", str(base / "offsite" / "new" / "head.json"))
        _cli(*ferry_in, "replay", "--out", str(base / "offsite" / "replay.db"))
        _cli(*ferry_in, "report", "audit-log", "--format", "csv")
    yield base


WRITTEN = [
    "wd",
    "wd/ferry.toml",
    "wd/ferry.db",
    "wd/mapping.toml",
    "wd/mapping.confirmed.toml",
    "wd/reports",
    "wd/reports/source-audit.md",
    "wd/reports/fixup-*.csv",
    "wd/reports/run-*.md",
    "wd/reports/delta-*.md",
    "wd/reports/audit-log.csv",
    "wd/anchors",
    "wd/anchors/*.json",
    "offsite",
    "offsite/new",
    "offsite/new/head.json",
    "offsite/replay.db",
]


@pytest.mark.parametrize("pattern", WRITTEN, ids=WRITTEN)
def test_every_file_written_under_umask_000_is_owner_only(flow: Path, pattern: str) -> None:
    found = sorted(flow.glob(pattern))
    assert found, f"{pattern} was not written"
    for path in found:
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, f"{path.relative_to(flow)} is {oct(_mode(path))}"


def test_nothing_in_the_work_directory_is_readable_by_others(flow: Path) -> None:
    loose = [
        f"{p.relative_to(flow)} {oct(_mode(p))}"
        for p in [flow / "wd", *(flow / "wd").rglob("*")]
        if _mode(p) & 0o077
    ]
    assert not loose


def test_one_anchor_per_run_delta_and_rollback(flow: Path) -> None:
    anchors = sorted((flow / "wd" / "anchors").glob("anchor-*.json"))
    assert len(anchors) == 3
    positions = [json.loads(a.read_text())["position"] for a in anchors]
    assert positions == sorted(positions) and len(set(positions)) == 3
    out = _cli("--workdir", str(flow / "wd"), "events", "verify", "--anchor", str(anchors[0]))
    assert f"position {positions[0]} holds the anchored hash" in out


def test_store_log_files_and_new_folders_are_owner_only_while_in_use(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "db"
    previous = os.umask(0)
    try:
        store = EventStore.open(folder / "ferry.db", transition=Lifecycle().next_state)
        store.append([NewEvent("patient:1", _extracted("1"))], run_id="r")
        modes = {p.name: _mode(p) for p in folder.iterdir()}
        store.close()
    finally:
        os.umask(previous)
    assert modes == {"ferry.db": 0o600, "ferry.db-wal": 0o600, "ferry.db-shm": 0o600}
    assert _mode(folder) == 0o700 and _mode(folder.parent) == 0o700


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ferry.toml", ["init", "--source", str(FIXTURES / "small_utf8")]),
        ("mapping.toml", ["map", "propose", str(FIXTURES / "small_utf8")]),
        ("ferry.db", ["init", "--source", str(FIXTURES / "small_utf8")]),
    ],
    ids=["config", "mapping", "store"],
)
def test_a_world_readable_file_left_behind_is_tightened_when_rewritten(
    tmp_path: Path, name: str, args: list[str]
) -> None:
    wd = tmp_path / "wd"
    _cli("--workdir", str(wd), "init", "--source", str(FIXTURES / "small_utf8"))
    left = wd / name
    if not left.exists():  # e.g. a mapping copied in from elsewhere
        left.write_text("# old\n", encoding="utf-8")
    left.chmod(0o666)
    _cli("--workdir", str(wd), *args)
    assert _mode(wd / name) == 0o600


def test_an_existing_folder_given_to_out_is_left_as_it_was(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    _cli("source", "audit", str(FIXTURES / "small_utf8"), "--out", str(shared / "audit.md"))
    assert _mode(shared) == 0o755 and _mode(shared / "audit.md") == 0o600


_RAW_WRITE = re.compile(
    r"\.write_text\(|\.write_bytes\(|\.mkdir\(|os\.open\(|\bopen\([^)]*[\"'][wax]b?[\"']"
    r"|sqlite3\.connect\((?!\"\"|create_private\()"  # SQLite creates a missing file
)
# Modules that may touch files without the helper, and why.
_ALLOWED = {
    "events/private_files.py": "the helper itself",
    "events/checkpoint.py": "connects to the store the writer created (owner-only already)",
}
# Single lines that open a database the helper created just before.
_ALLOWED_LINES = {
    ("events/store.py", "conn = sqlite3.connect(path, isolation_level=None"): "create_private",
    ("core/replay.py", "rebuilt = sqlite3.connect(target)"): "reads what replay() created",
}


def _sources() -> list[Path]:
    packages = [
        *sorted((REPO / "core").rglob("*.py")),
        *sorted((REPO / "events").rglob("*.py")),
        *sorted((REPO / "commands").rglob("*.py")),
    ]
    return [REPO / "cli.py", *packages]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_files_are_created_only_through_the_private_files_helper(path: Path) -> None:
    relative = str(path.relative_to(REPO))
    if relative in _ALLOWED:
        return
    text = path.read_text(encoding="utf-8")
    raw = [
        line.strip()
        for line in text.splitlines()
        if _RAW_WRITE.search(line)
        and not any(f == relative and line.strip().startswith(s) for f, s in _ALLOWED_LINES)
    ]
    assert not raw, f"{relative} writes files directly: {raw}; use events.private_files"


# --- 2. `ferry events list` hides patient values ---------------------------------------------


def _extracted(key: str) -> RecordExtracted:
    row = {"Patient ID": key, "Last Name": NAME, "Email": EMAIL, "Phone": PHONE,
           "Address 1": STREET, "Birth Date": BIRTH}  # fmt: skip
    return RecordExtracted(
        source_file="patients.csv", line=2, source_key=key, content_hash="ab" * 32, row=row
    )


def _patient_history() -> list[NewEvent]:
    """One patient through update and a failed verification: every field that holds values."""
    before = {"name": {"lastName": NAME}, "emails": {"primaryEmail": EMAIL}}
    payload = {"name": {"lastName": NAME}, "phones": {"primaryPhoneNumber": PHONE},
               "address": {"addressStreet1": STREET}, "birthDate": BIRTH}  # fmt: skip
    dest = "4b2f7a3e-58c1-5d3a-9b7e-0c1d2e3f4a5b"
    events = [
        _extracted("7"),
        RecordTransformed(target_object="person", payload=payload, target_plural="people"),
        RecordValidated(),
        LoadRequested(batch_id="b1", destination_id=dest, operation="update", before_image=before),
        RecordLoaded(destination_id=dest, outcome="updated", before_image=before),
        VerificationFailed(
            destination_id=dest,
            diffs=[FieldDiff(field="emails.primaryEmail", expected=EMAIL, actual=PHONE)],
        ),
    ]
    return [NewEvent("patient:7", e) for e in events]


@pytest.fixture
def phi_store(tmp_path: Path) -> Path:
    with EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state) as store:
        store.append([NewEvent("run:r1", RunStarted(run_id="r1", command="run"))], run_id="r1")
        store.append(_patient_history(), run_id="r1")
    return tmp_path


def _invoke(workdir: Path, *args: str) -> str:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


HIDDEN_CASES = [
    ("RecordExtracted", "row"),
    ("RecordTransformed", "payload"),
    ("LoadRequested", "before_image"),
    ("RecordLoaded", "before_image"),
    ("VerificationFailed", "diffs"),
]


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize(
    ("type_", "field"), HIDDEN_CASES, ids=[f"{t}.{f}" for t, f in HIDDEN_CASES]
)
def test_events_list_hides_patient_values(
    phi_store: Path, fmt: str, type_: str, field: str
) -> None:
    output = _invoke(phi_store, "events", "list", "--type", type_, "--format", fmt)
    assert type_ in output
    assert not [value for value in PATIENT_VALUES if value in output], output
    assert "fields hidden; --show-data" in output
    if fmt == "json":
        assert json.loads(output)["data"][field].endswith("fields hidden; --show-data>")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_events_list_of_everything_holds_no_patient_value(phi_store: Path, fmt: str) -> None:
    output = _invoke(phi_store, "events", "list", "--format", fmt)
    assert "VerificationFailed" in output
    assert not [value for value in PATIENT_VALUES if value in output]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_events_list_shows_patient_values_when_asked(phi_store: Path, fmt: str) -> None:
    output = _invoke(phi_store, "events", "list", "--format", fmt, "--show-data")
    assert all(value in output for value in PATIENT_VALUES)


def test_hidden_json_keeps_the_keys_codes_and_ids(phi_store: Path) -> None:
    output = _invoke(phi_store, "events", "list", "--type", "RecordExtracted", "--format", "json")
    data = json.loads(output)["data"]
    assert data["source_key"] == "7" and data["line"] == 2 and data["row"].startswith("<6 fields")


# --- 3. a key given where a variable's name belongs ------------------------------------------

KEY_LIKE = {
    "jwt": JWT,
    "dotted": "tw.live.9f8e7d6c5b4a",
    "dashed": "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d",
    "long": "K" * 65,
    "token-with-underscores": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "starts-with-digit": "9TWENTY_KEY",
    "space": "TWENTY API KEY",
    "slash-and-equals": "dGVzdA/abc+def==",
}


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`ferry` as the console script runs it: exit code and everything printed."""
    from cli import main

    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


def _assert_refused_without_echo(code: int, output: str, secret: str, where: str) -> None:
    assert code != 0
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ") and where in lines[0] and "Traceback" not in output
    assert secret not in output
    assert secret[:12] not in output  # not even its start


@pytest.mark.parametrize("secret", list(KEY_LIKE.values()), ids=list(KEY_LIKE))
def test_init_refuses_a_key_as_api_key_env_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    wd = tmp_path / "wd"
    code, output = _main(
        capsys, "--workdir", str(wd), "init", "--source", str(FIXTURES / "small_utf8"),
        "--api-key-env", secret,
    )  # fmt: skip
    _assert_refused_without_echo(code, output, secret, "--api-key-env")
    assert not (wd / "ferry.toml").exists()


def test_the_name_check_takes_real_names_and_only_them() -> None:
    from core.config import is_variable_name

    names = ["TWENTY_API_KEY", "twenty_key", "_K", "PROD_TWENTY_API_KEY_2", "TwentyKey2"]
    assert [n for n in names if not is_variable_name(n)] == []
    assert [k for k in KEY_LIKE.values() if is_variable_name(k)] == []


@pytest.fixture
def keyed_toml(tmp_path: Path) -> Path:
    """A work directory whose ferry.toml holds a key in twenty.api_key_env (hand-edited)."""
    _invoke(tmp_path, "init", "--source", str(FIXTURES / "small_utf8"))
    config = tmp_path / "ferry.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('"TWENTY_API_KEY"', f'"{JWT}"'), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [["members", "check"], ["plan"], ["run", "--without-sample-approval"], ["verify"],
     ["report", "reconciliation"], ["delta", str(FIXTURES / "delta_cp1252")]],
    ids=["members-check", "plan", "run", "verify", "report", "delta"],
)  # fmt: skip
def test_a_key_in_ferry_toml_is_refused_naming_file_and_line(
    keyed_toml: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, output = _main(capsys, "--workdir", str(keyed_toml), *args)
    _assert_refused_without_echo(code, output, JWT, "ferry.toml line ")
    line = int(re.search(r"ferry\.toml line (\d+)", output).group(1))  # type: ignore[union-attr]
    assert "api_key_env" in (keyed_toml / "ferry.toml").read_text().splitlines()[line - 1]


@pytest.mark.parametrize(
    "args",
    [
        ["members", "check", "--twenty-url", "http://127.0.0.1:9", "--export", "x"],
        ["schema", "plan", "--twenty-url", "http://127.0.0.1:9"],
        ["run", "--without-sample-approval"],
        ["sample"],
    ],
    ids=["members-check-bare", "schema-plan-bare", "run", "sample"],
)
def test_a_key_on_the_command_line_is_refused_and_never_reaches_ferry_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    _invoke(tmp_path, "init", "--source", str(FIXTURES / "small_utf8"))
    before = (tmp_path / "ferry.toml").read_bytes()
    code, output = _main(capsys, "--workdir", str(tmp_path), *args, "--api-key-env", JWT)
    _assert_refused_without_echo(code, output, JWT, "--api-key-env")
    assert (tmp_path / "ferry.toml").read_bytes() == before


def test_an_anchor_key_given_as_its_name_is_refused(
    phi_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _main(capsys, "--workdir", str(phi_store), "events", "anchor",
                         "--anchor-key-env", JWT)  # fmt: skip
    _assert_refused_without_echo(code, output, JWT, "--anchor-key-env")
    assert not (phi_store / "anchors").exists()


# --- 4. the anchor: a rewritten chain -------------------------------------------------------


def rewrite_chain(db: Path, position: int, edit: tuple[str, str]) -> None:
    """What someone with write access to ferry.db can do: edit one event's data, then
    recompute every later hash with the store's own chain function, head included."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    row = conn.execute("SELECT hash FROM events WHERE position = ?", (position - 1,)).fetchone()
    prev = row[0] if row else GENESIS_HASH
    rows = conn.execute(
        "SELECT position, stream_id, version, type, run_id, recorded_at, data FROM events "
        "WHERE position >= ? ORDER BY position",
        (position,),
    ).fetchall()
    for pos, stream_id, version, type_, run_id, at, data in rows:
        if pos == position:
            assert edit[0] in data
            data = data.replace(*edit)
        digest = chain_hash(pos, stream_id, version, type_, run_id, at, data.encode(), prev)
        conn.execute(
            "UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE position = ?",
            (data, prev, digest, pos),
        )
        prev = digest
    conn.execute("UPDATE chain_head SET hash = ? WHERE id = 1", (prev,))
    conn.commit()
    conn.close()


def _anchor(workdir: Path, out: Path, *extra: str) -> dict:
    _invoke(workdir, "events", "anchor", "--out", str(out), *extra)
    return json.loads(out.read_text())


def _verify(capsys: pytest.CaptureFixture[str], workdir: Path, *extra: str) -> tuple[int, str]:
    return _main(capsys, "--workdir", str(workdir), "events", "verify", *extra)


# Positions in the phi_store: 1 RunStarted, 2 RecordExtracted, 3 RecordTransformed, ...
REWRITES = {
    "first-event": (1, ('"command":"run"', '"command":"sample"')),
    "patient-row": (2, (NAME, "Forged")),
    "anchored-head": (7, (PHONE, "+1 555 0000 000")),
}


@pytest.mark.parametrize(("position", "edit"), list(REWRITES.values()), ids=list(REWRITES))
def test_a_rewritten_chain_passes_verify_but_fails_against_the_anchor(
    phi_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    position: int,
    edit: tuple[str, str],
) -> None:
    anchor = tmp_path / "offsite.json"
    assert _anchor(phi_store, anchor)["position"] == 7
    rewrite_chain(phi_store / "ferry.db", position, edit)
    code, output = _verify(capsys, phi_store)
    assert code == 0 and "chain intact" in output  # the chain alone cannot tell
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor))
    assert code == 1
    assert output.strip().splitlines() == [output.strip()]
    assert output.startswith(f"FAILED against {anchor}: ") and "rewritten" in output


def test_a_rewrite_after_the_anchor_is_not_its_business(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = tmp_path / "a.json"
    _anchor(phi_store, anchor)
    with EventStore.open(phi_store / "ferry.db", transition=Lifecycle().next_state) as store:
        store.append([NewEvent("patient:8", _extracted("8"))], run_id="r2")
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor))
    assert code == 0 and "position 7 holds the anchored hash" in output


def test_a_log_cut_below_the_anchor_fails(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = tmp_path / "a.json"
    _anchor(phi_store, anchor)
    conn = sqlite3.connect(phi_store / "ferry.db")
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE position > 5")
    head = conn.execute("SELECT hash FROM events WHERE position = 5").fetchone()[0]
    conn.execute("UPDATE chain_head SET position = 5, hash = ? WHERE id = 1", (head,))
    conn.commit()
    conn.close()
    assert _verify(capsys, phi_store)[0] == 0
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor))
    assert code == 1 and "the log ends before the anchored position 7" in output


def test_a_signed_anchor_edited_to_match_a_rewrite_fails_its_signature(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("FERRY_ANCHOR_KEY", "a-secret-the-attacker-lacks")
    anchor = tmp_path / "a.json"
    assert len(_anchor(phi_store, anchor)["signature"]) == 64
    rewrite_chain(phi_store / "ferry.db", 2, (NAME, "Forged"))
    forged = json.loads(anchor.read_text())
    forged["hash"] = (
        sqlite3.connect(phi_store / "ferry.db")
        .execute("SELECT hash FROM events WHERE position = 7")
        .fetchone()[0]
    )
    anchor.write_text(json.dumps(forged))
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor))
    assert code == 1 and "signature does not match" in output
    assert "a-secret" not in output


def test_an_unsigned_anchor_is_refused_when_a_key_is_set(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    anchor = tmp_path / "a.json"
    _anchor(phi_store, anchor)  # no key yet: unsigned
    monkeypatch.setenv("FERRY_ANCHOR_KEY", "k" * 32)
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor))
    assert code == 1 and "not signed, but an anchor key is set" in output


def test_a_signed_anchor_checked_with_another_key_fails(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    anchor = tmp_path / "a.json"
    monkeypatch.setenv("MY_ANCHOR_KEY", "first key")
    _anchor(phi_store, anchor, "--anchor-key-env", "MY_ANCHOR_KEY")
    monkeypatch.setenv("MY_ANCHOR_KEY", "second key")
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor), "--anchor-key-env",
                           "MY_ANCHOR_KEY")  # fmt: skip
    assert code == 1 and "signature does not match" in output
    monkeypatch.setenv("MY_ANCHOR_KEY", "first key")
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor), "--anchor-key-env",
                           "MY_ANCHOR_KEY")  # fmt: skip
    assert code == 0 and "signature checked" in output


def test_anchoring_a_broken_chain_is_refused(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(phi_store / "ferry.db")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET data = replace(data, ?, 'Forged') WHERE position = 2", (NAME,))
    conn.commit()
    conn.close()
    out = tmp_path / "a.json"
    code, output = _main(capsys, "--workdir", str(phi_store), "events", "anchor", "--out", str(out))
    assert code == 1 and "not anchored: the chain is broken at position 2" in output
    assert not out.exists()


def _anchor_json(**fields: object) -> bytes:
    base = {"format": "ferry-anchor/1", "position": 1, "hash": "0", "first_hash": "0"}
    return json.dumps({**base, "anchored_at": "t", **fields}).encode()


BAD_ANCHORS = {
    "not-json": b"position: 7\n",
    "empty": b"",
    "other-format": _anchor_json(format="other/1"),
    "negative-position": _anchor_json(position=-1),
    "position-as-text": _anchor_json(position="7"),
    "missing-hash": json.dumps({"format": "ferry-anchor/1", "position": 7}).encode(),
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("content", list(BAD_ANCHORS.values()), ids=list(BAD_ANCHORS))
def test_a_broken_anchor_file_is_one_clear_line_naming_it(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    anchor = tmp_path / "bad-anchor.json"
    anchor.write_bytes(content)
    code, output = _verify(capsys, phi_store, "--anchor", str(anchor))
    assert code == 1
    assert output.strip().splitlines() == [output.strip()]
    assert output.startswith(f"Error: {anchor}: ") and "Traceback" not in output


def test_a_missing_anchor_file_is_one_clear_line(
    phi_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _verify(capsys, phi_store, "--anchor", str(tmp_path / "nowhere.json"))
    assert code == 1 and output.startswith(f"Error: {tmp_path / 'nowhere.json'}: cannot read")
