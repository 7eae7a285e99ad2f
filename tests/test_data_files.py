"""The switch's data files hold names and dates of birth: the data directory is the owner's
only (0700), and so is every file the switch makes in it (0600)."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.config import Config
from nlets_sim.switch.server import SwitchServer


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_directory_and_its_files_are_owner_only(
    nlets_config: Config, nlets_terminal: TerminalFactory
) -> None:
    ny = await nlets_terminal("NY0303000")
    await ny.send(b"AM.NY0303000.NJNLETS00.TXT\r\nJOHN DOE DOB 01/15/1980")
    await ny.drain()
    data_dir = nlets_config.data_dir
    names = ["journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm", "switch.lock"]
    names.append("admin.sock")
    modes = {name: _mode(data_dir / name) for name in names}
    assert modes == dict.fromkeys(names, 0o600)
    assert _mode(data_dir) == 0o700


async def test_an_older_world_readable_data_directory_is_made_owner_only(
    nlets_config: Config, tmp_path: Path
) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    switch = SwitchServer(dataclasses.replace(nlets_config, data_dir=data_dir))
    await switch.start()
    try:
        assert _mode(data_dir) == 0o700
    finally:
        await switch.stop()
