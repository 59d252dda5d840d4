"""Records of different files that share a number and a Twenty object stay apart."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from adapters.twenty_sandbox import SandboxHandle
from tests.run.conftest import FIXTURES, dump, invoke, prepare


def test_a_recall_with_an_appointments_number_is_its_own_task(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    # Appointment and recall IDs are separate sequences in Dental-Exec, and both files become
    # tasks, whose dentalExecId is unique: a recall numbered like an appointment used to be
    # refused as its duplicate and then linked onto it, overwriting the appointment.
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "small_utf8", export)
    recalls = export / "recalls.csv"
    content = recalls.read_bytes()
    assert b"\n640021," in content and b"\n583301," in (export / "appointments.csv").read_bytes()
    recalls.write_bytes(content.replace(b"\n640021,", b"\n583301,"))
    key_env(twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url, str(export))
    invoke(workdir, "run", "--without-sample-approval")
    tasks = dump(twenty_sandbox.rest_url, twenty_sandbox.api_key)["tasks"].values()
    ids = [task["dentalExecId"] for task in tasks]
    assert ids.count("appointment:583301") == 1
    assert ids.count("recall:583301") == 1
    titles = {task["dentalExecId"]: task["title"] for task in tasks}
    assert titles["recall:583301"].startswith("Recall:")
    assert not titles["appointment:583301"].startswith("Recall:")
    with sqlite3.connect(workdir / "ferry.db") as conn:
        linked = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'RecordLoaded' "
            "AND json_extract(data, '$.outcome') = 'linked'"
        ).fetchone()[0]
    assert linked == 0
