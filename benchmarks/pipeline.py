"""The whole pipeline on a generated export: local stages, end to end, and resume start-up.

For each size: generate an export (all fourteen files), prepare a work directory the way an
operator does (`ferry init`, `map propose`, `map confirm`, `schema apply`; rate limit set to
100000/1s, batch size 200) against a `ferry sandbox serve` child process (no rate limit, a
fresh SQLite file per phase), then measure three phases, each in its own child process so
that its peak RSS (os.wait4) is its own:

1. local: extract -> transform -> validate into the event store (RunRequest(load=False)).
   Source rows/s over the local stages alone (first entity started -> last chunk appended);
   the pre-pass (`prepare_context`) and start-up are reported apart.
2. e2e: `ferry run --without-sample-approval` from a fresh copy of the prepared work
   directory: Twenty records loaded per second of the whole command's wall time.
3. resume: `ferry run` again from a fresh copy, SIGKILLed once half of the records to load
   are `loaded` (the store's record_state polled every 0.2 s), then started again: the time
   from spawning it to its first request reaching the sandbox (`/_sandbox/stats` polled
   every 10 ms; that is the members lookup) and to its first load batch (the first
   LoadRequested it appends, written just before the batch is sent; ferry.db polled every
   10 ms). The resumed run is then stopped.

    .venv/bin/python benchmarks/pipeline.py [--patients 100000 ...] [--phases local,e2e,resume]

`--keep DIR` (resume phase) also keeps the killed state in DIR: the work directory as the
kill left it (ferry.db with its -wal/-shm, ferry.toml, mapping.toml, ...), a snapshot of the
sandbox's SQLite file and the export (hard links); with several sizes, DIR/<patients>.
`--resume-from DIR [--repeat N]` then times only the restart, N times, each on fresh copies
of the work directory and the sandbox file (the workdir retargeted at a new sandbox), the
copied ferry.db read once first as it is hot right after a real kill (`--cold`: not read):

    .venv/bin/python benchmarks/pipeline.py --patients 5000 --phases resume --keep /tmp/k5
    .venv/bin/python benchmarks/pipeline.py --resume-from /tmp/k5 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.pipeline.run import SilentProgress  # noqa: E402

CLI = str(ROOT / "cli.py")
KEY_ENV = "FERRY_BENCH_KEY"
KEY = "ferry-bench-key"
LOADABLE = ("validated", "loading", "loaded", "load_failed")


# --- child processes -----------------------------------------------------------------------


def measured(command: list[str], env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run a child to completion: its stdout, wall seconds and peak RSS in MB (os.wait4)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}... exited with {child.returncode}")
    return output, time.perf_counter() - started, usage.ru_maxrss / 1024


def ferry(workdir: Path, *args: str) -> None:
    """One ferry command in a child process; stop the benchmark when it fails."""
    env = {**os.environ, KEY_ENV: KEY}
    command = [sys.executable, CLI, "--workdir", str(workdir), *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox(db_path: Path) -> Iterator[str]:
    """`ferry sandbox serve` in a child process, no rate limit; yields its base URL."""
    port = _free_port()
    command = [sys.executable, CLI, "sandbox", "serve", "--port", str(port), "--db", str(db_path)]
    env = {**os.environ, "FERRY_SANDBOX_API_KEY": KEY}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- work directories ----------------------------------------------------------------------


def prepare(workdir: Path, export: Path, url: str) -> None:
    """Init, propose and confirm the mapping, apply the schema: ready for `ferry run`."""
    ferry(workdir, "init", "--source", str(export), "--twenty-url", url, "--api-key-env", KEY_ENV)
    retarget(workdir, url)
    ferry(workdir, "map", "propose", str(export))
    ferry(workdir, "map", "confirm", "--user", "bench")
    ferry(workdir, "schema", "apply", "--no-probe")


def retarget(workdir: Path, url: str) -> None:
    """Point ferry.toml at a sandbox, with no effective rate limit and batches of 200."""
    config = workdir / "ferry.toml"
    lines = []
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("url = "):
            line = f'url = "{url}"'
        elif line.startswith("rate_limit = "):
            line = 'rate_limit = "100000/1s"'
        elif line.startswith("batch_size = "):
            line = "batch_size = 200"
        lines.append(line)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def fresh(prepared: Path, scratch: Path, name: str) -> Iterator[Path]:
    """A copy of the prepared work directory against a fresh sandbox (same namespace)."""
    workdir = scratch / name
    shutil.copytree(prepared, workdir)
    with sandbox(scratch / f"{name}-sandbox.db") as url:
        # The schema lives in the sandbox: apply it again to this one.
        retarget(workdir, url)
        ferry(workdir, "schema", "apply", "--no-probe")
        yield workdir
    shutil.rmtree(workdir)


def store_counts(workdir: Path) -> dict[str, int]:
    """Records per lifecycle state, read from ferry.db's record_state (read-only)."""
    with _read_only(workdir) as conn:
        rows = conn.execute("SELECT state, COUNT(*) FROM record_state GROUP BY state")
        return {state: count for state, count in rows}


@contextmanager
def _read_only(workdir: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{workdir / 'ferry.db'}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


# --- phase 1: the local stages alone (runs in a child) -------------------------------------


class _Timing(SilentProgress):
    """A Progress that notes when the first local stage starts."""

    first_stage: float | None = None

    def stage(self, entity: str, stage: str, total: int | None) -> None:
        """Note the first stage's start."""
        if self.first_stage is None:
            self.first_stage = time.perf_counter()


def local_child(workdir: Path) -> dict[str, Any]:
    """Run the local stages of a prepared work directory; return its figures."""
    import anyio

    from adapters.dental_exec import open_export
    from adapters.twenty import TwentyClient
    from core.clock import SystemClock
    from core.pipeline.run import RunRequest
    from core.session import Session
    from core.workspace import open_workspace

    os.environ[KEY_ENV] = KEY
    started = time.perf_counter()
    workspace = open_workspace(workdir)
    session = Session(workspace, open_export, lambda s, g: TwentyClient(s, gate=g), SystemClock())
    timing = _Timing()
    request = RunRequest(load=False)
    result = anyio.run(lambda: session.run(request, progress=timing))
    done = time.perf_counter()
    events = workspace.store.connection.execute("SELECT MAX(position) FROM events").fetchone()[0]
    workspace.close()
    assert timing.first_stage is not None
    rows = sum(summary.read for summary in result.local.values())
    local_s = done - timing.first_stage
    return {
        "rows": rows,
        "validated": sum(s.validated for s in result.local.values()),
        "events": events,
        "startup_and_prepass_s": timing.first_stage - started,
        "local_s": local_s,
        "rows_per_s": rows / local_s,
    }


def phase_local(prepared: Path, scratch: Path) -> dict[str, Any]:
    """The local stages alone in a child process; figures plus its peak RSS."""
    with fresh(prepared, scratch, "local") as workdir:
        command = [sys.executable, __file__, "--local-child", str(workdir)]
        output, wall, peak = measured(command, {**os.environ, KEY_ENV: KEY})
        figures = json.loads(output)
        figures.update(wall_s=wall, peak_rss_mb=peak, states=store_counts(workdir))
    return dict(figures)


# --- phase 2: end to end -------------------------------------------------------------------


def run_command(workdir: Path) -> list[str]:
    """`ferry run` on a work directory, without the sample gate."""
    return [sys.executable, CLI, "--workdir", str(workdir), "run", "--without-sample-approval"]


def phase_e2e(prepared: Path, scratch: Path) -> dict[str, Any]:
    """A whole `ferry run` from scratch; Twenty records loaded per second of wall time."""
    with fresh(prepared, scratch, "e2e") as workdir:
        _, wall, peak = measured(run_command(workdir), {**os.environ, KEY_ENV: KEY})
        states = store_counts(workdir)
        split = _run_split(workdir)
    loaded = states.get("loaded", 0)
    return {
        "wall_s": wall,
        "loaded": loaded,
        "records_per_s": loaded / wall,
        "peak_rss_mb": peak,
        "states": states,
        **split,
    }


def _run_split(workdir: Path) -> dict[str, float]:
    """Seconds from RunStarted to the first LoadRequested and from there to RunFinished."""
    sql = "SELECT {}(recorded_at) FROM events WHERE type = ?"
    with _read_only(workdir) as conn:
        started, loading, finished = (
            _instant(conn.execute(sql.format(agg), (kind,)).fetchone()[0])
            for agg, kind in (
                ("MIN", "RunStarted"),
                ("MIN", "LoadRequested"),
                ("MAX", "RunFinished"),
            )
        )
    return {"local_in_run_s": loading - started, "load_in_run_s": finished - loading}


def _instant(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


# --- phase 3: resume start-up after a kill at 50% ------------------------------------------


def phase_resume(prepared: Path, scratch: Path, keep: Path | None = None) -> dict[str, Any]:
    """Kill `ferry run` at half the load, start it again, time its first request and batch."""
    env = {**os.environ, KEY_ENV: KEY}
    with fresh(prepared, scratch, "resume") as workdir:
        url = _url_of(workdir)
        first = subprocess.Popen(run_command(workdir), cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        loaded, total = _wait_half_loaded(workdir, first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        if keep is not None:
            save_killed(workdir, scratch / "resume-sandbox.db", keep, (loaded, total))
        figures = restart(workdir, url)
    return {"killed_at_loaded": loaded, "loadable": total, **figures}


def restart(workdir: Path, url: str) -> dict[str, Any]:
    """Start `ferry run` on a killed work directory; seconds to its first request and batch."""
    env = {**os.environ, KEY_ENV: KEY}
    with _read_only(workdir) as conn:
        head = conn.execute("SELECT MAX(position) FROM events").fetchone()[0]
    requests_before = _requests(url)
    started = time.perf_counter()
    again = subprocess.Popen(run_command(workdir), cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    first_request = first_batch = None
    while first_batch is None and again.poll() is None:
        now = time.perf_counter() - started
        if first_request is None and _requests(url) > requests_before:
            first_request = now
        first_batch = _first_batch_after(workdir, head, now)
        time.sleep(0.01)
    os.kill(again.pid, signal.SIGKILL)
    usage = os.wait4(again.pid, 0)[2]
    again.returncode = -signal.SIGKILL
    return {
        "first_request_s": first_request,
        "first_load_batch_s": first_batch,
        "peak_rss_mb_until_stopped": usage.ru_maxrss / 1024,
    }


# --- a killed state kept for reruns (--keep DIR, --resume-from DIR) --------------------------


def save_killed(workdir: Path, sandbox_db: Path, keep: Path, counts: tuple[int, int]) -> None:
    """Keep the killed work directory (with -wal/-shm), the sandbox's data and the export."""
    if keep.exists():
        shutil.rmtree(keep)
    keep.mkdir(parents=True)
    shutil.copytree(workdir, keep / "workdir")
    # The sandbox is still serving: its backup is a consistent snapshot of what it holds.
    source, copy = sqlite3.connect(sandbox_db, timeout=30), sqlite3.connect(keep / "sandbox.db")
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    # The export is read-only: hard links keep it when the scratch directory goes.
    export = Path(_config_value(workdir, "source"))
    shutil.copytree(export, keep / "export", copy_function=os.link)
    _set_source(keep / "workdir", keep / "export")
    loaded, total = counts
    facts = {"killed_at_loaded": loaded, "loadable": total}
    (keep / "killed.json").write_text(json.dumps(facts), encoding="utf-8")


def _read_through(paths: Iterator[Path]) -> None:
    for path in paths:
        with path.open("rb") as data:
            while data.read(1 << 24):
                pass


def _set_source(workdir: Path, export: Path) -> None:
    config = workdir / "ferry.toml"
    lines = [
        f"source = {json.dumps(str(export))}" if line.startswith("source = ") else line
        for line in config.read_text(encoding="utf-8").splitlines()
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def resume_from(kept: Path, repeat: int, *, warm: bool = True) -> list[dict[str, Any]]:
    """Time the restart on fresh copies of a kept killed state, `repeat` times.

    With `warm`, the copied store is read once first: right after a kill it is in the page
    cache (the killed run was writing it), while a copy of several GB may have been evicted.
    """
    facts = json.loads((kept / "killed.json").read_text(encoding="utf-8"))
    results = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="ferry-resume-") as scratch_name:
            scratch = Path(scratch_name)
            workdir = scratch / "workdir"
            shutil.copytree(kept / "workdir", workdir)
            shutil.copyfile(kept / "sandbox.db", scratch / "sandbox.db")
            if warm:
                _read_through(workdir.glob("ferry.db*"))
            with sandbox(scratch / "sandbox.db") as url:
                retarget(workdir, url)
                figures = {**facts, **restart(workdir, url)}
        print(render("resume", figures), flush=True)
        results.append(figures)
    return results


def _requests(url: str) -> int:
    return int(httpx.get(f"{url}/_sandbox/stats").json()["requests"])


def _url_of(workdir: Path) -> str:
    return _config_value(workdir, "url")


def _config_value(workdir: Path, name: str) -> str:
    for line in (workdir / "ferry.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name} = "):
            return str(json.loads(line.partition("=")[2].strip()))
    raise SystemExit(f"no {name} in ferry.toml")


def _wait_half_loaded(workdir: Path, process: subprocess.Popen[bytes]) -> tuple[int, int]:
    while process.poll() is None:
        time.sleep(0.2)
        try:
            states = store_counts(workdir)
        except sqlite3.OperationalError:
            continue  # the store is being created
        total = sum(states.get(s, 0) for s in LOADABLE)
        loaded = states.get("loaded", 0)
        if total and loaded >= total / 2:
            return loaded, total
    raise SystemExit(f"ferry run ended ({process.returncode}) before half was loaded")


def _first_batch_after(workdir: Path, head: int, now: float) -> float | None:
    with _read_only(workdir) as conn:
        found = conn.execute(
            "SELECT 1 FROM events WHERE position > ? AND type = 'LoadRequested' LIMIT 1", (head,)
        ).fetchone()
    return now if found else None


def _sized(keep: Path | None, patients: int) -> Path | None:
    return None if keep is None else keep / str(patients)


# --- driver --------------------------------------------------------------------------------


def generate(out: Path, patients: int) -> tuple[int, float]:
    """Generate a full export; its row count and seconds."""
    from adapters.dental_exec.generator import GeneratorOptions, generate_export

    started = time.perf_counter()
    result = generate_export(GeneratorOptions(out=out, patients=patients, seed=1))
    return sum(result.files.values()), time.perf_counter() - started


def size(
    patients: int, phases: list[str], scratch: Path, keep: Path | None = None
) -> dict[str, Any]:
    """Every asked phase at one export size."""
    export = scratch / "export"
    rows, took = generate(export, patients)
    print(f"\n{patients:,} patients: {rows:,} source rows, generated in {took:.0f} s", flush=True)
    prepared = scratch / "prepared"
    with sandbox(scratch / "prepare-sandbox.db") as url:
        prepare(prepared, export, url)
    figures: dict[str, Any] = {"patients": patients, "rows": rows}
    runners = {"local": phase_local, "e2e": phase_e2e, "resume": phase_resume}
    for phase in phases:
        if phase == "resume":
            figures[phase] = phase_resume(prepared, scratch, keep)
        else:
            figures[phase] = runners[phase](prepared, scratch)
        print(render(phase, figures[phase]), flush=True)
    return figures


def render(phase: str, f: dict[str, Any]) -> str:
    """One phase's figures as a line."""
    if phase == "local":
        return (
            f"  local stages: {f['rows']:,} rows in {f['local_s']:.1f} s = {f['rows_per_s']:,.0f}"
            f" rows/s ({f['events']:,} events; start-up + pre-pass "
            f"{f['startup_and_prepass_s']:.1f} s); peak RSS {f['peak_rss_mb']:.0f} MB"
        )
    if phase == "e2e":
        return (
            f"  end to end: {f['loaded']:,} records loaded in {f['wall_s']:.1f} s = "
            f"{f['records_per_s']:,.0f} records/s (local part {f['local_in_run_s']:.1f} s, "
            f"load part {f['load_in_run_s']:.1f} s); peak RSS {f['peak_rss_mb']:.0f} MB"
        )
    return (
        f"  resume after SIGKILL at {f['killed_at_loaded']:,}/{f['loadable']:,} loaded: first "
        f"request after {f['first_request_s'] or float('nan'):.2f} s, first load batch after "
        f"{f['first_load_batch_s'] or float('nan'):.2f} s; peak RSS until then "
        f"{f['peak_rss_mb_until_stopped']:.0f} MB"
    )


def main() -> None:
    """Parse options; run the phases per size (or be the local-stage child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[100_000])
    parser.add_argument("--phases", default="local,e2e,resume")
    parser.add_argument("--json", type=Path, default=None, help="also write figures here")
    parser.add_argument(
        "--keep", type=Path, default=None, help="resume phase: keep the killed state in this dir"
    )
    parser.add_argument(
        "--resume-from", type=Path, default=None, help="only time restarts of a --keep state"
    )
    parser.add_argument("--repeat", type=int, default=3, help="restarts with --resume-from")
    parser.add_argument(
        "--cold", action="store_true", help="--resume-from: do not read the copied store first"
    )
    parser.add_argument("--local-child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.local_child is not None:
        print(json.dumps(local_child(args.local_child)))
        return
    if args.resume_from is not None:
        print(f"restarts of the killed state in {args.resume_from}:", flush=True)
        results: list[Any] = resume_from(args.resume_from, args.repeat, warm=not args.cold)
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
        return
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    results = []
    for patients in args.patients:
        with tempfile.TemporaryDirectory(prefix="ferry-bench-") as scratch:
            keep = args.keep if len(args.patients) == 1 else _sized(args.keep, patients)
            results.append(size(patients, phases, Path(scratch), keep))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
