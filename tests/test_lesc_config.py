"""The LESC's settings load from TOML like the switch's (``lesc-daemon run --config FILE``),
flags win, and the settings hold paths, never a live SSL context."""

from __future__ import annotations

import dataclasses
import re
import ssl
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from lesc_daemon.cli import main
from lesc_daemon.daemon import DaemonConfig, load_daemon_config
from lesc_daemon.delays import Delay


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lesc.toml"
    path.write_text(text)
    return path


def test_the_file_sets_the_settings_and_the_overrides_win(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    path = write(
        tmp_path,
        "[lesc]\n"
        'host = "10.0.0.5"\nport = 7800\nori = "VTICE0900"\ndelay = "lognormal:0,0.5"\n'
        f'oris = ["VTICE0900"]\nclock = "2012-10-01T00:00"\ntls_ca = "{ca}"\nnode = "desk"\n',
    )
    config = load_daemon_config(path, {"port": 7900, "node": None})
    assert config == DaemonConfig(
        host="10.0.0.5",
        port=7900,
        ori="VTICE0900",
        delay=Delay("lognormal", 0.0, 0.5),
        oris=frozenset({"VTICE0900"}),
        clock=datetime(2012, 10, 1),
        tls_ca=ca,
        node="desk",
    )
    assert load_daemon_config(None, {}) == DaemonConfig()


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ('colour = "red"\n', "unknown configuration keys: colour"),
        ('port = "x"\n', "port must be a whole number, not 'x'"),
        ('delay = "soon"\n', "delay 'soon': expected SECONDS, MIN-MAX or lognormal:MU,SIGMA"),
        ('clock = "monday"\n', "clock: not an ISO 8601 time: 'monday'"),
        ("clock_rate = -1.0\n", "a clock rate is a positive number of simulated seconds"),
        ("port = [", "lesc.toml: not valid TOML"),
    ],
)
def test_a_wrong_value_is_named(tmp_path: Path, text: str, sentence: str) -> None:
    with pytest.raises(ValueError, match=re.escape(sentence)):
        load_daemon_config(write(tmp_path, text), {})


def test_the_settings_hold_paths_not_an_ssl_context(tmp_path: Path) -> None:
    config = DaemonConfig(tls_ca=tmp_path / "missing.pem")
    fields = [getattr(config, field.name) for field in dataclasses.fields(config)]
    assert not any(isinstance(value, ssl.SSLContext) for value in fields)
    assert DaemonConfig().tls_context() is None
    with pytest.raises(FileNotFoundError):
        config.tls_context()


def test_run_reads_the_file_and_a_flag_given_wins(tmp_path: Path) -> None:
    path = write(tmp_path, f'delay = "soon"\ndb = "{tmp_path / "l.db"}"\n')
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "delay 'soon': expected SECONDS, MIN-MAX or lognormal:MU,SIGMA" in result.output
    result = runner.invoke(main, ["run", "--config", str(path), "--delay", "1", "--node", "a b"])
    assert result.exit_code == 2
    assert "node name 'a b' must be 1-32 letters, digits, - or _" in result.output
    assert "soon" not in result.output
