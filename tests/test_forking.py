"""The worker pool stops with the build: no worker runs, or writes, once the build's process
has been stopped (``serve`` removes its preview folder right after: review F2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import children

SCRIPT = r"""
import multiprocessing, os, signal, sys, threading, time
from pathlib import Path
from badgekiln.engine import forking

out = Path(sys.argv[1])

def stop(signum, frame):  # as 'serve' does: leave through the clean-up
    raise SystemExit(128 + signum)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, signal.default_int_handler)  # (as a terminal starts it: a job started with & ignores SIGINT)

def work(i):
    time.sleep(0.02)
    (out / str(i)).write_text("x")
    return i

if sys.argv[2] == "self":  # stopped, then stopped again while the pool is ending (Ctrl-C twice)
    threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    threading.Timer(1.8, os.kill, (os.getpid(), signal.SIGTERM)).start()
else:
    print("ready", flush=True)
try:
    forking.fork_map(work, list(range(2000)), min_items=1)
    print("finished", flush=True)
except SystemExit:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (as serve's clean-up does)
    time.sleep(0.5)
    done = len(os.listdir(out))
    time.sleep(1.0)
    print(done, len(os.listdir(out)), len(multiprocessing.active_children()), flush=True)
"""


def _start(tmp_path: Path, how: str) -> subprocess.Popen[str]:
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, BADGEKILN_JOBS="2")
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(out), how],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def test_a_signal_to_the_build_stops_its_workers_before_the_clean_up(tmp_path):
    proc = _start(tmp_path, "self")
    try:
        out, _ = proc.communicate(timeout=60)  # (unfixed, the second signal left it hanging)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    done, later, alive = (int(n) for n in out.split())
    assert 0 < done < 2000  # stopped part way (unstopped, the pool finished all 40 s of work first)
    assert later == done  # nothing written after the exception left the pool
    assert alive == 0


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_whole_group_stops_the_workers(tmp_path, stop_signal):
    proc = _start(tmp_path, "group")
    try:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(1.5)
        os.killpg(proc.pid, stop_signal)
        proc.wait(timeout=60)
        time.sleep(0.2)
        done = len(os.listdir(tmp_path / "out"))
        time.sleep(1.0)
        assert len(os.listdir(tmp_path / "out")) == done  # no worker goes on (an inherited handler kept them going)
        assert done < 2000
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _slow(index: int) -> int:
    time.sleep(0.05)
    return index


def test_stop_all_ends_a_pool_running_in_another_thread_and_refuses_new_ones(monkeypatch):
    # serve stopping while its watcher thread rebuilds (the watcher's rebuild must not go on)
    import multiprocessing
    import threading

    from badgekiln.engine import forking

    monkeypatch.setenv(forking.ENV_JOBS, "2")
    outcome: list[BaseException | None] = []

    def rebuild() -> None:
        try:
            forking.fork_map(_slow, list(range(2000)), min_items=1)  # (about 50 s of work on 2 workers)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - what the test looks at
            outcome.append(exc)

    pools_before = set(forking._LIVE)  # (a pool another thread opened is not this one)
    thread = threading.Thread(target=rebuild)
    thread.start()
    deadline = time.monotonic() + 60
    workers: list[multiprocessing.process.BaseProcess] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        with forking._LIVE_LOCK:
            ours = [forked for forked in forking._LIVE if forked not in pools_before]
        workers = list((getattr(ours[0], "_processes", None) or {}).values()) if ours else []
    assert len(workers) == 2
    time.sleep(0.3)
    started = time.monotonic()
    try:
        forking.stop_all()
        thread.join(timeout=30)
        assert not thread.is_alive() and time.monotonic() - started < 10
        assert outcome and outcome[0] is not None  # the rebuild failed (its workers were killed)
        assert [worker.exitcode is None for worker in workers] == [False, False]  # both ended, and reaped
        with pytest.raises(forking.Stopped):
            forking.fork_map(_slow, list(range(8)), min_items=1)
    finally:
        forking.reopen()
    assert forking.fork_map(_slow, list(range(8)), min_items=1) == list(range(8))


BIG_RESULTS = r"""
import os, signal, sys, threading
from badgekiln.engine import forking

signal.signal(signal.SIGINT, signal.default_int_handler)

def big(i):
    return b"x" * 200_000  # (a chunk's results are megabytes: written to the pipe in many pieces)

threading.Timer(float(sys.argv[1]), os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    forking.fork_map(big, list(range(20000)), min_items=1)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def _run(script: str, *args: str) -> tuple[subprocess.Popen[str], str, str]:
    """Run ``script`` on two workers in a session of its own; (process, stdout, stderr), killed
    with its workers if it has not ended in 60 s (a hang is the failure these tests look for)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, BADGEKILN_JOBS="2"),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc, out, err


@pytest.mark.parametrize("delay", [0.5, 0.9])
def test_ctrl_c_while_workers_send_results_ends_the_process(tmp_path, delay):
    # (review: workers killed in the middle of sending a result left half a message in the pipe,
    # and the pool's thread waited for the rest forever: the command hung after "interrupted")
    proc, out, err = _run(BIG_RESULTS, str(delay))
    assert out == "interrupted\n" and proc.returncode == 0, err
    assert "Traceback" not in err, err


HALF_A_MESSAGE = r"""
import os, signal, struct, sys, threading, time
from badgekiln.engine import forking

signal.signal(signal.SIGINT, signal.default_int_handler)

def work(i):
    if i == 7:  # half a result in the pipe, then death by a signal (a SIGTERM to the group mid-send)
        frame = sys._getframe()
        while frame and "result_queue" not in frame.f_locals:
            frame = frame.f_back
        writer = frame.f_locals["result_queue"]._writer
        os.write(writer.fileno(), struct.pack("!i", 100000) + b"x" * 100)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.01)
    return i

threading.Timer(2, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    forking.fork_map(work, list(range(400)), min_items=1)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_a_worker_dead_in_the_middle_of_a_result_does_not_hang_the_stop(tmp_path):
    # (review: the pipe's writer was looked up after shutdown() had let go of it, so it was never
    # closed, and the pool's thread waited for the rest of the message forever)
    _, out, err = _run(HALF_A_MESSAGE)
    assert out == "interrupted\n", (out, err)


# -- Beside: one function in a process of its own, while the caller goes on ------------------------


def test_beside_runs_the_function_in_another_process_and_hands_back_its_result():
    from badgekiln.engine import forking, timings

    data = {"big": list(range(1000))}  # (inherited, not sent)

    def work():
        with timings.phase("beside/work"):
            return os.getpid(), sum(data["big"])

    before = set(children())
    running = forking.Beside(work)
    assert running.started
    pid, total = running.result()
    assert pid != os.getpid() and total == sum(range(1000))
    assert "beside/work" in timings.snapshot()  # (its timings added to this process's)
    assert set(children()) <= before  # (ended and reaped)


def test_beside_raises_what_the_function_raised():
    from badgekiln.engine import forking

    def work():
        raise ValueError("no such award")

    before = set(children())
    with pytest.raises(ValueError, match="no such award"):
        forking.Beside(work).result()
    assert set(children()) <= before


@pytest.mark.parametrize("how", ["died", "unpicklable"])
def test_beside_says_so_when_the_process_ends_without_an_answer(how):
    from badgekiln.engine import forking

    def work():
        if how == "died":
            os._exit(3)
        return lambda: None  # (a result that pickle refuses)

    before = set(children())
    with pytest.raises(forking.BesideFailed):
        forking.Beside(work).result()
    assert set(children()) <= before


def test_discarding_beside_ends_the_process_at_once():
    from badgekiln.engine import forking

    def work():
        time.sleep(60)

    before = set(children())
    running = forking.Beside(work)
    start = time.monotonic()
    running.discard()
    assert time.monotonic() - start < 5 and set(children()) <= before
    with pytest.raises(forking.BesideFailed):
        running.result()


def test_a_process_beside_does_not_outlive_a_killed_caller(tmp_path):
    """A build killed (SIGKILL) while its summary is made beside: that process ends when its work
    is done, and whoever ran the build is not left waiting on pipes it holds (a pool's idle worker
    waited for ever)."""
    script = (
        "import os, sys, time\n"
        "from badgekiln.engine import forking\n"
        "forking.Beside(lambda: time.sleep(0.5))\n"
        "os._exit(9)\n"
    )
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert done.returncode == 9 and time.monotonic() - start < 20


def _state(pid: int) -> str | None:
    """The state letter of process ``pid`` (Z: ended, not yet reaped), or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_large_answer_does_not_keep_the_process_beside_alive():
    """An answer larger than a pipe holds (64 KB) is written and the process ends before the
    caller asks for it (blocked on a pipe, it lived through the build, holding a copy of its memory)."""
    from badgekiln.engine import forking

    running = forking.Beside(lambda: "x" * 1_000_000)
    pid = running._pid
    deadline = time.monotonic() + 20
    while _state(pid) not in ("Z", None) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _state(pid) in ("Z", None)
    assert running.result() == "x" * 1_000_000


def test_an_interrupted_wait_ends_the_process_beside_at_once():
    from badgekiln.engine import forking

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    before = set(children())
    running = forking.Beside(lambda: time.sleep(30))
    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            running.result()
        assert time.monotonic() - start < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert set(children()) <= before


def test_the_process_beside_runs_without_the_cyclic_collector():
    import gc

    from badgekiln.engine import forking

    assert gc.isenabled()
    assert forking.Beside(gc.isenabled).result() is False
    assert gc.isenabled()
