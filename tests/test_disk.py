"""A full disk, for real (a small tmpfs as the cache): a build that would not fit is refused before
anything is written, and a disk that fills up mid-way is one line naming its directory, with nothing
half-made left behind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from blasbench import UserError
from blasbench.building import build, disk


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 100 MB tmpfs as the cache (root only: skipped where mount is not allowed)."""
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    monkeypatch.setenv("BLASBENCH_CACHE", str(where))
    yield where
    subprocess.run(["umount", str(where)], check=True)


def test_a_build_that_would_not_fit_is_refused_before_anything_is_written(small_disk):
    with pytest.raises(UserError) as refused:
        build._build_env(None)
    message = str(refused.value)
    assert f"the disk holding {small_disk}/buildenv has " in message
    assert f"MB free, and build tools needs about {disk.NEEDED['build tools'] // disk.MB:,} MB" in message
    assert "set BLASBENCH_CACHE to a directory on a larger disk" in message and "\n" not in message
    assert not any(small_disk.iterdir())


def test_a_build_whose_output_says_the_disk_filled_up_is_one_line_naming_it(small_disk):
    """A compiler-like child that writes until the disk is full: its traceback is in the log, and the
    error is the one line, not the compiler's last lines."""
    log = small_disk.parent / "build.log"
    fill = f"open({str(small_disk / 'object.o')!r}, 'wb').write(bytes(200_000_000))"
    with pytest.raises(UserError) as full:
        build._run_logged([sys.executable, "-c", fill], {}, log, "numpy 2.4.6")
    message = str(full.value)
    assert message.startswith(f"the disk holding {small_disk} has ")
    assert "filled up during the build of numpy 2.4.6" in message and f"Full log: {log}" in message
    assert "No space left on device" in log.read_text()


@pytest.mark.slow
def test_a_disk_that_fills_during_the_build_tools_install_is_one_line_and_leaves_no_environment(small_disk, monkeypatch):
    """pip installing the build tools (about 170 MB) into the 100 MB disk, past the check: the one
    line names the disk, and no half-made environment is left to be taken for a ready one."""
    monkeypatch.setitem(disk.NEEDED, "build tools", 1)
    with pytest.raises(UserError) as full:
        build._build_env(None)
    assert "filled up during the install of the build tools" in str(full.value)
    assert "check the network" not in str(full.value)
    assert not any((small_disk / "buildenv").iterdir())
