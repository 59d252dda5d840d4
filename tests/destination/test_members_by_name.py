"""`ferry members check` by name, the `[members]` table, and `ferry config set|show`.

Real parts: the sandbox over loopback with seeded members, real ferry.toml files, click's
runner for the commands and `cli.main` for the one-line errors.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import ferry, main
from core.members import ProviderContact, match_members, names_agree
from core.ports.destination import Member
from tests.destination.conftest import Target

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_utf8"
SECRET = "s3cr3t-Value-That-Must-Never-Show-0123456789"

# DDS1's export email belongs to a member with another name; HYG1 differs only by accent.
MEMBERS_CSV = (
    "name,email\n"
    "Ana Reyes,a.okafor@brightsmiles.example\n"
    "Pilar Munoz,p.munoz@brightsmiles.example\n"
    "Office Manager,office@brightsmiles.example\n"
)


def _ferry(workdir: Path, *args: str, target: Target | None = None) -> Any:
    env = {"FERRY_TEST_KEY": target.key if target else SECRET, "COLUMNS": "250"}
    if target is not None:
        env["TWENTY_API_URL"] = target.url
    return CliRunner().invoke(ferry, ["--workdir", str(workdir), *args], env=env)


def _init(workdir: Path, url: str = "http://127.0.0.1:9") -> Path:
    result = _ferry(
        workdir, "init", "--source", str(FIXTURE), "--twenty-url", url,
        "--api-key-env", "FERRY_TEST_KEY",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return workdir / "ferry.toml"


@pytest.fixture
def sandbox(faulty: Callable[..., Target], tmp_path: Path) -> Target:
    members = tmp_path / "members.csv"
    members.write_text(MEMBERS_CSV, encoding="utf-8")
    return faulty(members_csv=members)


def _check(workdir: Path, target: Target) -> str:
    result = _ferry(workdir, "members", "check", "--rate-limit", "1000/1s", target=target)
    assert result.exit_code == 0, result.output
    return str(result.output)


def _line(output: str, code: str) -> str:
    return next(line for line in output.splitlines() if f" {code} " in line)


def test_members_check_shows_names_and_warns_when_they_disagree(
    sandbox: Target, tmp_path: Path
) -> None:
    _init(tmp_path, sandbox.url)
    output = _check(tmp_path, sandbox)
    dds1 = _line(output, "DDS1")
    assert "Adaeze Okafor" in dds1 and "a.okafor@brightsmiles.example" in dds1
    assert "Ana Reyes <a.okafor@brightsmiles.example>" in dds1
    assert "names disagree" in dds1
    warnings = [line for line in output.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1
    assert "DDS1 Adaeze Okafor" in warnings[0] and "Ana Reyes" in warnings[0]
    assert "ferry config set members.DDS1 EMAIL" in warnings[0]
    hyg1 = _line(output, "HYG1")  # Muñoz in the export, Munoz in Twenty: the same person
    assert "Pilar Munoz <p.munoz@brightsmiles.example>" in hyg1 and "disagree" not in hyg1
    dds2 = _line(output, "DDS2")
    assert "unmatched" in dds2 and "ferry config set members.DDS2 EMAIL" in dds2


def test_the_members_table_maps_a_code_and_config_sets_the_placeholder(
    sandbox: Target, tmp_path: Path
) -> None:
    config = _init(tmp_path, sandbox.url)
    assert "placeholder owner: none" in _check(tmp_path, sandbox)
    for key, value in (
        ("members.dds2", "Office@BrightSmiles.example"),
        ("run.placeholder_owner", "office@brightsmiles.example"),
    ):
        result = _ferry(tmp_path, "config", "set", key, value)
        assert result.exit_code == 0, result.output
        assert "next: ferry members check" in result.output
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    parsed = tomllib.loads(config.read_text(encoding="utf-8"))
    assert parsed["members"] == {"DDS2": "Office@BrightSmiles.example"}
    assert parsed["run"]["placeholder_owner"] == "office@brightsmiles.example"
    output = _check(tmp_path, sandbox)
    dds2 = _line(output, "DDS2")
    assert "matched (by [members])" in dds2
    assert "Office Manager <office@brightsmiles.example>" in dds2
    assert "placeholder owner: office@brightsmiles.example" in output
    # an empty value removes the entry again
    assert _ferry(tmp_path, "config", "set", "members.DDS2", "").exit_code == 0
    assert tomllib.loads(config.read_text(encoding="utf-8"))["members"] == {}
    assert "unmatched" in _line(_check(tmp_path, sandbox), "DDS2")


def test_config_show_names_the_key_variable_and_never_its_value(tmp_path: Path) -> None:
    _init(tmp_path)
    assert _ferry(tmp_path, "config", "set", "twenty.batch_size", "60").exit_code == 0
    result = _ferry(tmp_path, "config", "show")
    assert result.exit_code == 0, result.output
    assert "twenty.api_key_env = FERRY_TEST_KEY (set)" in result.output
    assert "twenty.batch_size = 60" in result.output
    assert SECRET not in result.output
    assert SECRET not in (tmp_path / "ferry.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("run.placeholder_owner", "not-an-email", "takes the email of a workspace member"),
        ("run.placeholder_owner", 'a"\n[run]\nx = "@b.example', "takes the email"),
        ("twenty.batch_size", "500", "from 1 to 200"),
        ("twenty.batch_size", "1.5", "from 1 to 200"),
        ("run.max_rejected_share", "2", "a share from 0 to 1"),
        ("run.on_conflict", "merge", "one of link, skip, fail"),
        ("twenty.url", "ftp://twenty.example", "http:// or https://"),
        ("twenty.rate_limit", "fast", "request windows"),
        ("twenty.timeout_s", "-1", "seconds above 0"),
        ("twenty.api_key_env", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "looks like a key"),
        ("namespace", "00000000-0000-0000-0000-000000000000", "fixed by `ferry init`"),
        ("source", "/elsewhere", "fixed by `ferry init`"),
        ("twenty.api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "unknown setting"),
        ("members.[x]", "a@b.example", "a [members] key must be a provider code"),
        ("members.DDS1", "ana reyes", "members.DDS1 takes the email"),
    ],
    ids=["placeholder-not-email", "toml-injection", "batch-too-big", "batch-fraction",
         "share-over-one", "conflict-policy", "url-scheme", "rate-limit", "timeout-negative",
         "key-as-variable-name", "namespace", "source", "unknown-key", "member-code",
         "member-email"],
)  # fmt: skip
def test_config_set_refuses_a_bad_value_in_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str, says: str
) -> None:
    config = _init(tmp_path)
    before = config.read_bytes()
    with pytest.raises(SystemExit) as exited:
        main(["--workdir", str(tmp_path), "config", "set", key, value])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert says in err and "Traceback" not in err
    assert value not in err + captured.out
    assert config.read_bytes() == before
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('[members]\n"DDS1" = "ana reyes"\n', "members.DDS1 takes the email"),
        ('[members]\n"D D S" = "a@b.example"\n', "a [members] key must be"),
    ],
    ids=["hand-edited-email", "hand-edited-code"],
)
def test_a_bad_members_table_is_named_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, says: str
) -> None:
    config = _init(tmp_path)
    text = config.read_text(encoding="utf-8").replace("[members]\n", "")
    lines = text.splitlines(keepends=True)
    config.write_text("".join(lines), encoding="utf-8")
    with config.open("a", encoding="utf-8") as out:
        out.write(table)
    line = len(lines) + 2  # the entry follows the table's header
    with pytest.raises(SystemExit):
        main(["--workdir", str(tmp_path), "config", "show"])
    err = capsys.readouterr().err
    assert f"ferry.toml line {line}: {says}" in err and err.count("\n") == 1
    assert "ana reyes" not in err


def test_config_without_a_work_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--workdir", str(tmp_path), "config", "set", "run.sample_size", "250"])
    err = capsys.readouterr().err
    assert err.startswith("Error: no ferry.toml") and err.count("\n") == 1


OKAFOR = ProviderContact("DDS1", "a.okafor@brightsmiles.example", True, "Adaeze", "Okafor")


@pytest.mark.parametrize(
    ("provider", "member", "agree"),
    [
        (ProviderContact("HYG1", None, True, "Pilar", "Muñoz"),
         Member("m", None, "PILAR", "munoz"), True),
        (ProviderContact("HYG2", None, True, "Kathleen", "O’Brien"),
         Member("m", None, "Kathleen", "OBrien"), True),
        (ProviderContact("DDS3", None, True, "Jonathan", "Muñoz"),
         Member("m", None, "Ana", "Reyes"), False),
        (ProviderContact("DDS4", None, True, "Pilar", "Muñoz"),
         Member("m", None, "Jonathan", "Muñoz"), False),
        (OKAFOR, Member("m", None, "", ""), True),
    ],
    ids=["accents-and-case", "apostrophe", "other-person", "same-surname", "member-unnamed"],
)  # fmt: skip
def test_names_agree(provider: ProviderContact, member: Member, agree: bool) -> None:
    assert names_agree(provider, member) is agree


def test_the_members_table_overrides_the_export_email() -> None:
    members = [
        Member("m-ana", "ana@brightsmiles.example", "Ana", "Reyes"),
        Member("m-okafor", "adaeze@brightsmiles.example", "Adaeze", "Okafor"),
    ]
    providers = [
        OKAFOR,
        ProviderContact("DDS3", "ana@brightsmiles.example", True, "Jonathan", "Muñoz"),
        ProviderContact("FD1", "front@brightsmiles.example", True, "Sam", "Lee"),
        ProviderContact("FD2", "front@brightsmiles.example"),
        ProviderContact("ASST3", None),
    ]
    mapped = {"dds1": "Adaeze@BrightSmiles.example", "FD1": "ana@brightsmiles.example",
              "ASST3": "ghost@brightsmiles.example"}  # fmt: skip
    report = match_members(providers, members, None, mapped)
    assert report.matched == {"DDS1": "m-okafor", "DDS3": "m-ana", "FD1": "m-ana"}
    assert report.unmatched == {"FD2": "front@brightsmiles.example",
                                "ASST3": "ghost@brightsmiles.example"}  # fmt: skip
    assert report.shared == {} and report.missing == ()
    assert report.owner_for("dds1") == ("m-okafor", False)
    # DDS3 matched Ana Reyes by its export email; FD1 was mapped to her on purpose
    assert report.name_mismatches == ("DDS3",)
