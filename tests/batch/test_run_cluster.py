"""`vidstyle batch` on a real multi-node Ray cluster on this host: a worker node killed in the
middle of a chunk, then the driver killed mid-run and the command run again.

The cluster is a head (no CPUs: it holds the driver and nothing heavy) and two worker nodes of
one CPU each, every node a ``ray start --block`` in its own session with its own temp dir and ports, under
token authentication. A node is "lost" by SIGKILL to every process of its session (raylet,
agents and the worker processes it started), as when a machine drops off the network.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO, decode_rgb, moving_frames, probe, psnr

from vidstyle import stylize_file
from vidstyle.batch.state import WORK_DIR
from vidstyle.io.synth import tone, write_clip

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray==2.60.*')")
pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).with_name("ray"))
START_TIMEOUT = 240  # s: two shared cores, other engineers' tests beside these
# a fixed CRF: the frames are compared with a one-process run, and the auto CRF's bit-rate cap
# (a lean generated clip gets one) restarts its buffer at every chunk, which moves the picture
STYLE = ["--preset", "ultrafast", "--crf", "18", "--faces", "off", "--no-progress", "--chunk-seconds", "2"]
# 12 s at 25 fps, a keyframe each second: 6 chunks of 50 frames (about 2 s of work each here)
FRAMES, FPS = 300, 25


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _processes_mentioning(text: str) -> list[int]:
    """Processes whose command line or open files name ``text`` (Ray's workers rename their
    command line, but their log files stay open under the node's temp dir)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
                continue
            if any(text in os.readlink(fd) for fd in (proc / "fd").iterdir()):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


_WAIT_ALIVE = """
import sys, time
from ray._raylet import GcsClient  # the client Ray's own CLI uses
address, count, deadline = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        infos = GcsClient(address=address).get_all_node_info(timeout=5).values()
        if sum(info.state == 0 for info in infos) >= count:  # 0: ALIVE
            sys.exit(0)
    except Exception:  # the GCS is not up yet
        pass
    time.sleep(1)
sys.exit(1)
"""


def _session(sid: int) -> list[int]:
    """The processes of session ``sid`` (field 6 of /proc/PID/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[3]) == sid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class LocalCluster:
    """Ray nodes on 127.0.0.1, each ``ray start --block`` in a session of its own."""

    def __init__(self, root: Path):
        self.root = root
        self.port = _free_ports(1)[0]
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            # notice a dead node within ~10 s (default ~15 s), still tolerant of a loaded machine
            "RAY_health_check_period_ms": "1000",
            "RAY_health_check_failure_threshold": "10",
            "RAY_USAGE_STATS_ENABLED": "0",
        }

    def start(self, name: str, cpus: int, head: bool = False) -> None:
        ports = _free_ports(7)
        args = [
            RAY, "start", "--block", "--disable-usage-stats", f"--num-cpus={cpus}", "--num-gpus=0",
            f"--temp-dir={self.root / name}", "--object-store-memory=80000000",
            f"--node-manager-port={ports[0]}", f"--object-manager-port={ports[1]}",
            f"--dashboard-agent-listen-port={ports[2]}", f"--dashboard-agent-grpc-port={ports[3]}",
            f"--runtime-env-agent-port={ports[4]}", f"--metrics-export-port={ports[5]}",
            "--min-worker-port=0", "--max-worker-port=0",
        ]  # fmt: skip
        if head:
            args += [
                "--head",
                f"--port={self.port}",
                "--include-dashboard=false",
                f"--dashboard-port={ports[6]}",
            ]
        else:
            args.append(f"--address={self.address}")
        with open(self.root / f"{name}.log", "w") as log:
            self.nodes[name] = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )

    def wait_alive(self, count: int, timeout: float = START_TIMEOUT) -> None:
        """Until ``count`` nodes have registered with the GCS (asked as `ray status` does, from a
        process with the cluster's token: Ray reads its auth settings once per process)."""
        try:
            subprocess.run(
                [sys.executable, "-c", _WAIT_ALIVE, self.address, str(count), str(timeout)],
                env=self.env,
                check=True,
                timeout=timeout + 30,
                capture_output=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            raise AssertionError(f"{count} nodes not up in {timeout} s: {self.log('head')}") from None

    def kill(self, name: str) -> None:
        """Lose a node: SIGKILL to every process of its session at once, as a power cut would
        (Ray puts each worker in a process group of its own, but they stay in the session)."""
        for pid in _session(self.nodes[name].pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.nodes[name].wait()

    def owns(self, pid: int, name: str) -> bool:
        try:
            return os.getsid(pid) == self.nodes[name].pid
        except ProcessLookupError:
            return False

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()[-2000:]

    def stop(self) -> None:
        """Every node down and nothing left that names our temp dir: what `ray stop --force`
        does, for this cluster's sessions only (``ray start --block`` takes ~30 s to
        leave on SIGTERM here, and `ray stop` would end every Ray on the machine)."""
        for name, proc in self.nodes.items():
            if proc.poll() is None:
                self.kill(name)
        deadline = time.monotonic() + 20
        while _processes_mentioning(str(self.root)) and time.monotonic() < deadline:
            time.sleep(0.5)
        for pid in _processes_mentioning(str(self.root)):  # stragglers outside the groups
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster():
    root = Path(tempfile.mkdtemp(prefix="vrc", dir="/tmp"))  # short: Ray's socket paths live below
    c = LocalCluster(root)
    try:
        c.start("head", cpus=0, head=True)
        c.wait_alive(1)
        c.start("a", cpus=1)
        c.start("b", cpus=1)
        c.wait_alive(3)
        yield c
    finally:
        c.stop()
        left = _processes_mentioning(str(root))
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"the test cluster left processes behind: {left}"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cluster_in")
    return write_clip(d / "long.mp4", moving_frames(FRAMES), FPS, audio=tone(FRAMES / FPS), gop=FPS)


@pytest.fixture(scope="module")
def reference(clip, tiny_model, tmp_path_factory) -> Path:
    """The same clip through `stylize` in one process."""
    out = tmp_path_factory.mktemp("cluster_ref") / "long.mp4"
    stylize_file(
        clip,
        out,
        model__style=str(tiny_model),
        encode__preset="ultrafast",
        encode__crf=18,
        faces__mode="off",
        run__progress="off",
    )
    return out


def _driver(cluster: LocalCluster, clip: Path, out: Path, tiny_model: Path, report: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "vidstyle", "batch", str(clip), "-o", str(out), "--style", str(tiny_model)]
    args += [*STYLE, "--ray", cluster.address, "--json", str(report)]
    return subprocess.Popen(
        args,
        env={**cluster.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _attempts(work: Path) -> dict[int, list[int]]:
    """Chunk index -> pids of the workers that started it (one line per attempt)."""
    found = {}
    for path in work.glob("chunk-*.attempts"):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        found[int(path.stem.split("-")[1])] = [int(line.split()[0]) for line in lines if line.strip()]
    return found


def _same_as_reference(out: Path, ref: Path) -> None:
    """Frames, timestamps, rate, size and audio as the one-process run; every frame close to it
    (a chunk missing, doubled or out of order would be far off: the picture pans 2 px a frame)."""
    a, b = probe(ref), probe(out)
    assert b["frames"] == a["frames"] == FRAMES
    assert b["pts"] == a["pts"] and b["time_base"] == a["time_base"] and b["rate"] == a["rate"]
    assert (b["width"], b["height"]) == (a["width"], a["height"])
    assert b["audio"] == a["audio"] and b["audio"] and b["audio"][0][1]
    assert b["duration"] == pytest.approx(a["duration"], abs=0.001)
    got, want = decode_rgb(out), decode_rgb(ref)
    worst = min(psnr(g, w) for g, w in zip(got, want))
    assert worst > 30, f"a frame differs from the one-process run: {worst:.1f} dB"


def _finish(
    driver: subprocess.Popen, cluster: LocalCluster, timeout: float = START_TIMEOUT
) -> tuple[str, str]:
    try:
        stdout, stderr = driver.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        driver.kill()
        stdout, stderr = driver.communicate()
        raise AssertionError(f"the batch hung:\n{stderr[-3000:]}\n{cluster.log('head')}") from None
    return stdout, stderr


def test_a_node_lost_mid_chunk_is_retried_elsewhere(cluster, clip, reference, tiny_model, tmp_path):
    """Node b dies (SIGKILL to all its processes) while its worker is half-way through a chunk:
    the chunk runs again on node a, every other chunk runs once, the output is exact."""
    out = tmp_path / "out"
    work = out / WORK_DIR / clip.name
    driver = _driver(cluster, clip, out, tiny_model, tmp_path / "r.json")
    killed = None
    deadline = time.monotonic() + START_TIMEOUT
    while killed is None and driver.poll() is None and time.monotonic() < deadline:
        for index, pids in sorted(_attempts(work).items()):
            if len(pids) == 1 and cluster.owns(pids[0], "b"):
                time.sleep(0.4)  # into the chunk (about 2 s of work)
                if not (work / f"chunk-{index:04d}.mp4").exists():
                    cluster.kill("b")
                    killed = index
                break
        time.sleep(0.05)
    if killed is None:
        driver.kill()
        _, stderr = driver.communicate()
        raise AssertionError(f"no chunk was seen running on node b: {_attempts(work)}\n{stderr[-3000:]}")
    stdout, stderr = _finish(driver, cluster)
    assert driver.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    report = json.loads((tmp_path / "r.json").read_text())["files"][0]
    assert report["status"] == "done" and report["chunks"] == 6 and report["retries"] == 1
    done = json.loads((out / WORK_DIR / f"{clip.name}.done.json").read_text())
    assert done["attempts"] == [2 if i == killed else 1 for i in range(6)], (killed, done)
    assert not work.exists() and not list(out.rglob("*.part*"))
    _same_as_reference(out / clip.name, reference)


def test_a_killed_driver_resumes(cluster, clip, reference, tiny_model, tmp_path):
    """The driver is SIGKILLed once a chunk is finished: its workers go with it (Ray ends the
    actors of a dead driver), and the same command run again skips the finished chunks."""
    out = tmp_path / "out"
    work = out / WORK_DIR / clip.name
    driver = _driver(cluster, clip, out, tiny_model, tmp_path / "r1.json")
    deadline = time.monotonic() + START_TIMEOUT
    while driver.poll() is None and time.monotonic() < deadline and not list(work.glob("chunk-*.mp4")):
        time.sleep(0.05)
    assert driver.poll() is None, "the batch ended before it could be killed"
    driver.kill()
    driver.wait()
    finished = sorted(p.name for p in work.glob("chunk-*.mp4"))
    assert finished and len(finished) < 6 and not (out / clip.name).exists()

    again = _driver(cluster, clip, out, tiny_model, tmp_path / "r2.json")
    _, stderr = _finish(again, cluster)
    assert again.returncode == 0, stderr[-3000:]
    report = json.loads((tmp_path / "r2.json").read_text())["files"][0]
    assert report["status"] == "done" and report["chunks_resumed"] >= len(finished)
    done = json.loads((out / WORK_DIR / f"{clip.name}.done.json").read_text())
    assert done["attempts"].count(0) == report["chunks_resumed"]  # 0: finished by the killed run
    assert not work.exists() and not list(out.rglob("*.part*"))
    _same_as_reference(out / clip.name, reference)
