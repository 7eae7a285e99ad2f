"""TLS on the link (PROTOCOL §1: optionally TLS, server certificate, optional client
certificate). Certificates are made for each test session with the openssl command."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from lesc_daemon.daemon import DaemonConfig, LescDaemon
from nlets_sim.link.terminal import LinkClosed, LogonRejected, Terminal, client_tls_context
from nlets_sim.switch.config import Config, default_directory
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.cli import main
from tests.switch_process import running_switch

AM = b"AM.NY0303000.NJNLETS00.*T1.TXT\r\nOVER TLS"


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={name}",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    names = ("switch", "terminal", "NY0303000", "NJ0010000", "ALBANY-TERMINALS")
    made = {name: self_signed(directory, name) for name in names}
    bundle = directory / "terminals-ca.pem"  # the switch trusts each terminal's certificate
    bundle.write_bytes(b"".join(made[name][0].read_bytes() for name in names[1:]))
    made["terminals-ca"] = (bundle, bundle)
    return made


@pytest.fixture
def nlets_config(
    switch_config: Callable[..., Config], certificates: dict[str, tuple[Path, Path]]
) -> Config:
    cert, key = certificates["switch"]
    return switch_config(tls_cert=cert, tls_key=key)


def terminal(switch: SwitchServer, ori: str, secret: str, **tls: Path | None) -> Terminal:
    """A terminal with TLS options ``ca``, ``cert``, ``key`` (none: plain TCP)."""
    context = client_tls_context(tls.get("ca"), tls.get("cert"), tls.get("key"))
    return Terminal("127.0.0.1", switch.port, ori, secret, tls=context)


async def test_terminals_talk_over_tls(
    nlets_switch: SwitchServer, certificates: dict[str, tuple[Path, Path]]
) -> None:
    ca = certificates["switch"][0]
    async with (
        terminal(nlets_switch, "NJNLETS00", "K-NJNLETS00", ca=ca) as nj,
        terminal(nlets_switch, "NY0303000", "S3CRET", ca=ca) as ny,
    ):
        await ny.send(AM)
        assert (await nj.receive()).message.text == "OVER TLS"


async def test_plain_tcp_to_a_tls_switch_gets_no_logon(nlets_switch: SwitchServer) -> None:
    plain = terminal(nlets_switch, "NY0303000", "S3CRET")
    with pytest.raises((LinkClosed, OSError, TimeoutError)):
        await plain.connect(timeout=2)


async def test_an_untrusted_switch_certificate_is_refused(
    nlets_switch: SwitchServer, certificates: dict[str, tuple[Path, Path]]
) -> None:
    other_ca = certificates["terminal"][0]  # did not sign the switch's certificate
    untrusting = terminal(nlets_switch, "NY0303000", "S3CRET", ca=other_ca)
    with pytest.raises(ssl.SSLCertVerificationError):
        await untrusting.connect(timeout=2)


async def test_client_certificates_when_the_switch_requires_them(
    nlets_config: Config, certificates: dict[str, tuple[Path, Path]]
) -> None:
    config = dataclasses.replace(nlets_config, tls_client_ca=certificates["terminals-ca"][0])
    switch = SwitchServer(config)
    await switch.start()
    try:
        ca = certificates["switch"][0]
        without = terminal(switch, "NY0303000", "S3CRET", ca=ca)
        with pytest.raises((LinkClosed, OSError)):
            await without.connect(timeout=2)
        await without.abort()
        cert, key = certificates["NY0303000"]
        with_cert = terminal(switch, "NY0303000", "S3CRET", ca=ca, cert=cert, key=key)
        assert await with_cert.connect(timeout=2) == 0
        await with_cert.close()
    finally:
        await switch.stop()


async def _logon_with_certificate(
    config: Config, certificates: dict[str, tuple[Path, Path]], name: str, ori: str
) -> str | None:
    """The LJ text (None: logged on) for ``ori`` with the certificate of CN ``name``."""
    switch = SwitchServer(config)
    await switch.start()
    cert, key = certificates[name]
    ca = certificates["switch"][0]
    try:
        client = terminal(switch, ori, demo_key(ori), ca=ca, cert=cert, key=key)
        try:
            await client.connect(timeout=5)
        except LogonRejected as rejected:
            return rejected.reason
        await client.close()
        return None
    finally:
        await switch.stop()


@pytest.mark.parametrize(
    ("name", "ori", "answer"),
    [
        ("NJ0010000", "NY0303000", "ORI NOT ALLOWED ON THIS LINK"),
        ("NJ0010000", "NJ0010000", None),
        ("terminal", "NY0303000", "ORI NOT ALLOWED ON THIS LINK"),  # a CN that names no ORI
        ("ALBANY-TERMINALS", "NY0303000", None),  # mapped by the directory's certificate_cn
        ("ALBANY-TERMINALS", "NY0010000", "ORI NOT ALLOWED ON THIS LINK"),
    ],
)
async def test_a_client_certificate_logs_on_only_as_the_ori_it_names(
    nlets_config: Config,
    certificates: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    name: str,
    ori: str,
    answer: str | None,
) -> None:
    directory = tmp_path / "directory.toml"
    directory.write_text(
        default_directory()
        .read_text("utf-8")
        .replace('ori = "NY0303000"\n', 'ori = "NY0303000"\ncertificate_cn = "ALBANY-TERMINALS"\n')
    )
    config = dataclasses.replace(
        nlets_config, tls_client_ca=certificates["terminals-ca"][0], directory=directory
    )
    assert await _logon_with_certificate(config, certificates, name, ori) == answer


def test_cli_serve_and_am_over_tls(
    tmp_path: Path, certificates: dict[str, tuple[Path, Path]]
) -> None:
    cert, key = certificates["switch"]
    with running_switch(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key)) as port:
        result = CliRunner().invoke(
            main,
            [
                "am",
                "--to",
                f"127.0.0.1:{port}",
                "--ori",
                "NY0303000",
                "--key",
                "S3CRET",
                "--tls-ca",
                str(cert),
                "--wait",
                "0.5",
                "NJ",
                "HELLO",
            ],
        )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("SM.NL0000000\n")


async def test_the_lesc_answers_over_tls(
    nlets_switch: SwitchServer,
    certificates: dict[str, tuple[Path, Path]],
    lesc_config: Callable[..., DaemonConfig],
) -> None:
    ca = certificates["switch"][0]
    daemon = LescDaemon(lesc_config(port=nlets_switch.port, tls_ca=ca))
    running = asyncio.create_task(daemon.run())
    try:
        await asyncio.wait_for(daemon.connected.wait(), 10)
        async with terminal(nlets_switch, "NY0303000", "S3CRET", ca=ca) as ny:
            (reply,) = await ny.request(b"AM.NY0303000.VTINS07S0.*L1.TXT\r\nOVER TLS")
        assert reply.message.text.startswith("ICE LESC RECEIVED YOUR MESSAGE.")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
