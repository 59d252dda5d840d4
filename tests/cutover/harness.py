"""One cutover rehearsal: a generated export, a seeded sandbox over loopback, a work directory.

Commands run in-process through click's CliRunner (like tests/run) or, when they are to be
killed, as `python cli.py ...` subprocesses SIGKILLed after a delay or after a number of new
events in ferry.db (like tests/run/test_crash_resume.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from adapters.dental_exec.generator import GeneratorOptions, generate_export
from adapters.twenty_sandbox import RateWindow, SandboxConfig, running_sandbox
from cli import ferry
from tests.cutover.expected import fates
from tests.cutover.source import Truth
from tests.cutover.twenty import Content, read_all
from tests.cutover.twenty import seed as seed_records

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "FERRY_CUTOVER_TEST_KEY"
API_KEY = "cutover-test-key"
PATIENTS = 20
RATE = 600  # requests per second, for the sandbox and ferry alike: a step takes seconds


@dataclass(frozen=True)
class Outcome:
    """A command's exit code and output."""

    code: int
    output: str


@dataclass(frozen=True)
class Kill:
    """When to SIGKILL a command: after `seconds`, or once `events` new events are stored."""

    seconds: float | None = None
    events: int | None = None

    def __str__(self) -> str:
        if self.seconds is not None:
            return f"after {self.seconds:.2f} s"
        return f"after {self.events} events"


@cache
def generated_export(seed: int) -> Path:
    """A full export of PATIENTS patients for `seed`, made once per process.

    The only injected fault is the generator's marked patient (undecodable bytes): the error
    rate is set so low that no other row is broken, so the rejections are known exactly.
    """
    out = Path(tempfile.mkdtemp(prefix=f"cutover-export-{seed}-")) / "export"
    generate_export(GeneratorOptions(out=out, patients=PATIENTS, seed=seed, error_rate=1e-12))
    return out


class Rehearsal:
    """Everything one example of the state machine works on; `close()` removes it."""

    def __init__(self, seed: int, root: Path | None = None) -> None:
        self.stack = ExitStack()
        self.root = Path(tempfile.mkdtemp(prefix="cutover-", dir=root))
        self.stack.callback(shutil.rmtree, self.root, ignore_errors=True)
        self.export = self.root / "export"
        shutil.copytree(generated_export(seed), self.export)
        self.truth = Truth.read(self.export)
        config = SandboxConfig(api_key=API_KEY, rate_windows=(RateWindow(RATE, 1000),))
        self.sandbox = self.stack.enter_context(running_sandbox(config))
        self.workdir = self.root / "wd"
        self.bundles = self.root / "bundles"
        self.bundles.mkdir()
        self.seed_ids = seed_records(self.sandbox.rest_url, API_KEY, self._seed_records())
        self._prepare()
        self.before = read_all(self.sandbox.rest_url, API_KEY).stable()

    def close(self) -> None:
        self.stack.close()

    def _seed_records(self) -> list[tuple[str, dict[str, Any], bool]]:
        """A live person holding a patient's email (linked), a soft-deleted one holding
        another's (restored, then linked), and bystanders no step may touch."""
        patients = self.truth.tables["patient"]
        fate = fates(self.truth)
        emails: dict[str, list[str]] = {}
        for key in patients.rows:
            email = patients.get(key, "email").strip().lower()
            if email and "@" in email:
                emails.setdefault(email, []).append(key)
        owned = [
            email
            for email, keys in emails.items()
            if len(keys) == 1 and fate.of("patient", keys[0]) == "expected"
        ]
        records: list[tuple[str, dict[str, Any], bool]] = [
            ("people", {"name": {"firstName": "Bystander", "lastName": "Live"},
                        "emails": {"primaryEmail": "someone@else.example"}}, False),
            ("people", {"name": {"firstName": "Bystander", "lastName": "Deleted"},
                        "emails": {"primaryEmail": "nobody@else.example"}}, True),
        ]  # fmt: skip
        for email, deleted in zip(owned[:2], (False, True), strict=False):
            person = {
                "name": {"firstName": "Pre", "lastName": "Existing"},
                "emails": {"primaryEmail": email},
                "jobTitle": "Office manager",
                "avatarUrl": "Eugene",
            }
            records.append(("people", person, deleted))
        return records

    def _prepare(self) -> None:
        self.ferry("init", "--source", str(self.export), "--twenty-url", self.sandbox.base_url,
                   "--api-key-env", KEY_ENV, check=True)  # fmt: skip
        config = self.workdir / "ferry.toml"
        text = config.read_text(encoding="utf-8")
        text = text.replace('rate_limit = "100/60s"', f'rate_limit = "{RATE}/1s"')
        # Deltas that delete patients leave their children ORPHAN, far past 5% of a 20-patient
        # export: the machine checks what reaches Twenty, not the rejection threshold.
        text = text.replace("max_rejected_share = 0.05", "max_rejected_share = 1.0")
        config.write_text(text, encoding="utf-8")
        self.ferry("map", "propose", str(self.export), check=True)
        self.ferry("map", "confirm", "--user", "cutover", check=True)
        self.ferry("schema", "apply", "--no-probe", check=True)

    # --- commands ---------------------------------------------------------------------------

    def ferry(self, *args: str, check: bool = False) -> Outcome:
        """A ferry command in-process, with the sandbox's key in the variable ferry.toml names."""
        result = CliRunner().invoke(
            ferry, ["--workdir", str(self.workdir), *args], env={KEY_ENV: API_KEY}
        )
        output = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            output += f"\n{result.exception!r}"
        if check:
            assert result.exit_code == 0, f"ferry {' '.join(args)}: {output}"
        return Outcome(result.exit_code, output)

    def killed(self, kill: Kill, *args: str) -> bool:
        """Start `ferry ARGS` as a subprocess and SIGKILL it; False when it finished first."""
        start = self.event_count()
        command = [sys.executable, str(ROOT / "cli.py"), "--workdir", str(self.workdir), *args]
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, KEY_ENV: API_KEY},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + (kill.seconds if kill.seconds is not None else 60)
        while process.poll() is None and time.monotonic() < deadline:
            if kill.events is not None and self.event_count() - start >= kill.events:
                break
            time.sleep(0.01)
        was_killed = process.poll() is None
        if was_killed:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.stderr is not None
        error = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        assert process.returncode in (0, 3, -signal.SIGKILL), error[-3000:]
        return was_killed

    def event_count(self) -> int:
        """Events in ferry.db now (read-only; 0 while the store is being created)."""
        try:
            conn = sqlite3.connect(f"file:{self.workdir / 'ferry.db'}?mode=ro", uri=True, timeout=1)
            try:
                return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return 0

    def run_ids(self) -> list[str]:
        """The ids of every run `ferry status --json` lists."""
        status = self.status()
        return [run["run_id"] for run in status["runs"]]

    def status(self) -> dict[str, Any]:
        outcome = self.ferry("status", "--json", check=True)
        return json.loads(outcome.output)

    def content(self) -> Content:
        return read_all(self.sandbox.rest_url, API_KEY)
