"""The directory (PROTOCOL §2.6): the shipped default, checks with line numbers, the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from nlets_sim.cli import main
from nlets_sim.config import default_directory
from nlets_sim.directory import REGIONS, check_directory, hash_key, load_directory


def test_default_directory_has_every_line_region_and_the_lesc() -> None:
    directory = load_directory(default_directory())
    for code in ("NY", "DC", "PR", "VI", "GU", "AX", "NL", "FB", "IP", "CN"):
        assert code in directory.lines
    assert directory.lines["AX"].control_ori == "VTINS07S0"
    assert "VTICE0900" in directory.agencies
    assert all(directory.regions[region] for region in REGIONS)
    assert directory.key_matches("NY0303000", "S3CRET")
    assert not directory.key_matches("NY0303000", "s3cret")


def test_sending_binding_and_help_addresses() -> None:
    directory = load_directory(default_directory())
    assert directory.may_send_as("NY0303000", "NY0303000")
    assert directory.may_send_as("NYNLETS00", "NY0303000")
    assert not directory.may_send_as("NY0303000", "NY0010000")
    assert not directory.may_send_as("NJNLETS00", "NY0303000")
    help_address = directory.help_address("AXADMAPND")
    assert help_address is not None
    assert (help_address.line, help_address.file, help_address.verb) == ("AX", "ADM", "APND")
    assert directory.help_address("QQADMHELP") is None


BAD = """\
[[line]]
code = "NY"
name = "New York"
control_ori = "NYNLETS00"
region = "Z9"

[[ori]]
ori = "NYNLETS00"
line = "NY"
name = "Control"
type = "XX"
access = "ACQ"
key_sha256 = "abc"

[[ori]]
ori = "NY0303000"
line = "QQ"
name = "Albany"
type = "PD"
access = "AC"
key_sha256 = "{key}"
accepts = ["AM", "NOPE"]
"""


def test_check_reports_every_problem_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD.format(key=hash_key("X")))
    assert check_directory(path) == [
        "line 4: control_ori NYNLETS00 is not an [[ori]] of this line",
        "line 5: invalid region 'Z9'",
        "line 11: invalid type 'XX'",
        "line 12: invalid access 'ACQ': letters A C D Z",
        "line 13: invalid key_sha256 'abc'",
        "line 17: unknown line QQ",
        "line 22: invalid accepts ['AM', 'NOPE']: a list of keys",
    ]


def test_cli_hash_key_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    hashed = runner.invoke(main, ["directory", "hash-key", "S3CRET"])
    assert hashed.output == hash_key("S3CRET") + "\n"
    good = runner.invoke(main, ["directory", "check"])
    assert good.exit_code == 0
    assert good.output.endswith(": OK\n")
    path = tmp_path / "bad.toml"
    path.write_text(BAD.format(key=hash_key("X")))
    bad = runner.invoke(main, ["directory", "check", str(path)])
    assert bad.exit_code == 1
    assert f"{path}: line 5: invalid region 'Z9'" in bad.output.splitlines()
