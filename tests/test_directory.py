"""The directory (PROTOCOL §2.6): the shipped default, checks with line numbers, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.make_directory import render
from lesc_daemon.oris import LESC_KEY, LESC_ORI, LESC_ORIS
from nlets_sim.switch.config import default_directory
from nlets_sim.switch.directory import (
    REGIONS,
    check_directory,
    demo_key,
    load_directory,
    parse_directory,
)
from nlets_sim.switch.key_hash import hash_key, sha256_key, verify_key
from nlets_sim.switch.keys import LESC_LINE
from nlets_sim.tools.cli import main


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
    path.write_text(BAD.format(key=sha256_key("X")))
    assert check_directory(path) == [
        "line 4: control_ori NYNLETS00 is not an [[ori]] of this line",
        "line 5: invalid region 'Z9'",
        "line 11: invalid type 'XX'",
        "line 12: invalid access 'ACQ': letters A C D Z",
        "line 13: invalid key_sha256 'abc'",
        "line 17: unknown line QQ",
        "line 22: invalid accepts ['AM', 'NOPE']: a list of keys",
    ]


def test_a_file_that_is_not_toml_is_said_with_the_parsers_line_and_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hostname"
    path.write_text("demo-host\n")
    assert check_directory(path) == [
        "line 1: not valid TOML: Expected '=' after a key in a key/value pair (column 10)"
    ]


def test_cli_hash_key_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    hashed = runner.invoke(main, ["directory", "hash-key", "S3CRET"])
    assert hashed.output.startswith("scrypt$ln=14,r=8,p=1$")
    assert verify_key(hashed.output.strip(), "S3CRET")
    assert not verify_key(hashed.output.strip(), "S3CRET2")
    again = runner.invoke(main, ["directory", "hash-key", "S3CRET"])
    assert again.output != hashed.output  # salted
    good = runner.invoke(main, ["directory", "check"])
    assert good.exit_code == 0
    assert good.output.endswith(": OK\n")
    path = tmp_path / "bad.toml"
    path.write_text(BAD.format(key=sha256_key("X")))
    bad = runner.invoke(main, ["directory", "check", str(path)])
    assert bad.exit_code == 1
    assert f"{path}: line 5: invalid region 'Z9'" in bad.output.splitlines()


def test_the_shipped_directory_is_what_its_generator_writes() -> None:
    """Salted scrypt keys, made reproducibly: rerunning the generator changes nothing."""
    text = default_directory().read_text("utf-8")
    assert text == render()
    assert "key_sha256" not in text
    assert text.count('key_hash = "scrypt$ln=10,r=8,p=1$') == text.count("[[ori]]")


LEGACY = """\
[[line]]
code = "NY"
name = "New York"
control_ori = "NY0303000"

[[ori]]
ori = "NY0303000"
line = "NY"
name = "Albany"
type = "PD"
access = "AC"
key_sha256 = "{sha}"

[[ori]]
ori = "NY0010000"
line = "NY"
name = "State police"
type = "PD"
access = "AC"
key_hash = "{scrypt}"
"""


def test_an_older_sha256_directory_is_accepted_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "legacy.toml"
    path.write_text(LEGACY.format(sha=sha256_key("OLD"), scrypt=hash_key("NEW", log2_n=4)))
    directory = load_directory(path)
    assert directory.key_matches("NY0303000", "OLD")
    assert not directory.key_matches("NY0303000", "NEW")
    assert directory.key_matches("NY0010000", "NEW")
    assert not directory.key_matches("NY0010000", "OLD")
    checked = CliRunner().invoke(main, ["directory", "check", str(path)])
    assert checked.exit_code == 0
    assert checked.stdout == f"{path}: OK\n"
    assert checked.stderr == (
        f"{path}: warning: line 12: ORI NY0303000 has an unsalted SHA-256 key (key_sha256); "
        "make a salted one with `nlets-sim directory hash-key` and store it as key_hash\n"
    )


@pytest.mark.parametrize(
    ("key_lines", "problem"),
    [
        ('key_hash = "scrypt$ln=40,r=8,p=1$' + "0" * 32 + "$" + "0" * 64 + '"', "invalid key_hash"),
        ('key_hash = "abc"', "invalid key_hash 'abc'"),
        ('key_hash = "{h}"\nkey_sha256 = "{s}"', "give key_hash or key_sha256, not both"),
        ('key_hash = "{h}"\noriginates = ["NOPE"]', "invalid originates ['NOPE']: a list of keys"),
    ],
)
def test_bad_stored_keys_and_originates_are_problems(key_lines: str, problem: str) -> None:
    text = LEGACY.replace('key_sha256 = "{sha}"', key_lines).format(
        h=hash_key("X", log2_n=4), s=sha256_key("X"), scrypt=hash_key("NEW", log2_n=4)
    )
    directory, problems = parse_directory(text)
    assert directory is None
    assert [p for p in problems if "control_ori" not in p] == [p for p in problems if problem in p]
    assert any(problem in p for p in problems)


def test_only_the_lesc_may_originate_iar() -> None:
    directory = load_directory(default_directory())
    assert directory.restricted_keys == {"IAR"}
    assert directory.may_originate("VTINS07S0", "IAR")
    assert directory.may_originate("VTICE0900", "IAR")
    assert not directory.may_originate("NY0303000", "IAR")
    assert not directory.may_originate("NYNLETS00", "IAR")
    assert directory.may_originate("NY0303000", "IAQ")


def test_the_shipped_directory_lists_the_lesc_oris_on_the_lesc_line() -> None:
    """The LESC's ORIs are written once (``lesc_daemon.oris``) and agree with the directory:
    line AX, its control terminal the LESC's query ORI, its demo key the daemon's default."""
    directory = load_directory(default_directory())
    on_line = {ori for ori, agency in directory.agencies.items() if agency.line == LESC_LINE}
    assert on_line == LESC_ORIS
    assert directory.lines[LESC_LINE].control_ori == LESC_ORI
    assert demo_key(LESC_ORI) == LESC_KEY
