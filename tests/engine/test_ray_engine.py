"""Ray Data engine parity: the same checks on the same data give every metric and every flag of the
local engine. One local Ray instance (2 CPUs) for the whole module, shut down at the end."""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="Ray is the optional extra artifactlens[ray]")

from artifactlens.engine import LocalEngine, get_engine  # noqa: E402
from artifactlens.io import open_source  # noqa: E402
from support.toy import Stateful, assert_same_results, toy_checks, write_toy  # noqa: E402


# ---------------------------------------------------------------------------------------------------------
# Ray that cannot start fails in bounded time with one line (no Ray is started by these tests)
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def no_ray_running(monkeypatch):
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    started = []
    monkeypatch.setattr(ray, "init", lambda *a, **k: started.append(k))
    return started


def test_the_loopback_probe_passes_here_and_names_a_refused_connection(monkeypatch):
    import errno
    import socket
    from artifactlens.engine import ray_engine
    assert ray_engine.loopback_problem() is None

    def down(self, addr):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")
    monkeypatch.setattr(socket.socket, "connect", down)
    why = ray_engine.loopback_problem()
    assert "127.0.0.1" in why and "Network is unreachable" in why and "loopback" in why


def test_a_connection_that_never_comes_times_out_in_the_probe(monkeypatch):
    import socket
    import time
    from artifactlens.engine import ray_engine

    def hang(self, addr):  # a loopback that swallows packets: connect() waits out its timeout
        time.sleep(self.gettimeout())
        raise socket.timeout("timed out")
    monkeypatch.setattr(socket.socket, "connect", hang)
    t = time.monotonic()
    assert "timed out" in ray_engine.loopback_problem(timeout=0.3)
    assert time.monotonic() - t < 2


def test_ray_with_the_loopback_down_is_one_input_error_before_ray_init(monkeypatch, no_ray_running):
    from artifactlens.engine import ray_engine
    from artifactlens.errors import InputError
    monkeypatch.setattr(ray_engine, "loopback_problem", lambda *a, **k: "no local connection on 127.0.0.1 (x)")
    with pytest.raises(InputError, match=r"^Ray cannot start: no local connection on 127\.0\.0\.1 .*--engine local"):
        ray_engine.ensure_ray()
    assert no_ray_running == [], "ray.init was called although the loopback is down"


def test_a_hanging_ray_init_stops_in_bounded_time(monkeypatch, no_ray_running):
    import signal
    import time
    from artifactlens.engine import ray_engine
    from artifactlens.errors import InputError
    monkeypatch.setattr(ray, "init", lambda *a, **k: time.sleep(600))
    monkeypatch.setattr(ray, "shutdown", lambda *a, **k: None)
    before = signal.getsignal(signal.SIGALRM)
    t = time.monotonic()
    with pytest.raises(InputError, match=r"^Ray cannot start: starting a local Ray took more than 0\.5 s"):
        ray_engine.ensure_ray(init_timeout_s=0.5)
    assert time.monotonic() - t < 5
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_ctrl_c_reaches_a_hanging_ray_init_even_if_sigint_was_ignored(monkeypatch, no_ray_running):
    import signal
    import time
    from artifactlens.engine import ray_engine

    def hang(*a, **k):
        signal.raise_signal(signal.SIGINT)
        time.sleep(600)
    monkeypatch.setattr(ray, "init", hang)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        t = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            ray_engine.ensure_ray(init_timeout_s=30)
        assert time.monotonic() - t < 5
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # put back as it was
    finally:
        signal.signal(signal.SIGINT, old)


def test_cli_engine_ray_with_the_loopback_down_is_exit_2_in_one_line(monkeypatch, no_ray_running, run_cli, tmp_path):
    from artifactlens.audits.common import demo_path
    from artifactlens.engine import ray_engine
    monkeypatch.setattr(ray_engine, "loopback_problem", lambda *a, **k: "no local connection on 127.0.0.1 (x)")
    code, out, err = run_cli("audit", "labels", demo_path("labels.csv"), "--human", "human", "--llm", "llm", "--engine", "ray",
                             "--no-second-order", "--json", tmp_path / "r.json", "--quiet")
    assert code == 2 and err.count("\n") == 1 and "Ray cannot start" in err and "Traceback" not in err, err
    assert not (tmp_path / "r.json").exists() and no_ray_running == []


def test_quiet_ray_prints_no_warning_and_leaves_logging_as_it_was(capfd):
    """--quiet with --engine ray: Ray's own warnings (deprecations, "Progress bars disabled") are not
    printed during the run; the loggers' levels and the warning filters are unchanged after it."""
    import logging
    import warnings
    from ray.util.annotations import RayDeprecationWarning
    from artifactlens.engine.ray_engine import ray_output
    import ray.data  # noqa: F401  (sets up its loggers, as a run does)
    lg = logging.getLogger("ray.data")
    level, filters = lg.level, list(warnings.filters)
    with ray_output(quiet=True):
        warnings.warn("`ray_remote_args` is deprecated", RayDeprecationWarning)
        logging.getLogger("ray.data._internal.progress").warning("Progress bars disabled.")
        logging.getLogger("ray").warning("Token authentication is enabled for this Ray cluster.")
    assert capfd.readouterr().err == ""
    assert lg.level == level and warnings.filters == filters
    with ray_output(quiet=False):  # not quiet: Ray's warnings are let through (where they go is Ray's and the
        # logging set-up's business, which other tests in this process may have changed)
        assert logging.getLogger("ray.data._internal.progress").isEnabledFor(logging.WARNING)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy(tmp_path_factory.mktemp("toy") / "toy.jsonl", n=2000)


def test_ray_equals_local_every_metric_and_flag(local_ray, toy, tmp_path):
    local = LocalEngine(workers=1).run(open_source(toy, batch_size=300), toy_checks(),
                                       flags_path=tmp_path / "local.parquet")
    eng = get_engine("ray", workers=2, window=4)  # 7 batches: two datasets, two actor pools
    remote = eng.run(open_source(toy, batch_size=300), toy_checks(), flags_path=tmp_path / "ray.parquet")
    assert eng.rows == 2000
    assert_same_results(local, remote)
    a, b = pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "ray.parquet")
    assert a.num_rows == 2000 and a.equals(b)
    assert sum(a.column("apology").to_pylist()) > 50


def test_ray_flags_without_input_columns(local_ray, toy, tmp_path):
    kw = dict(flags_path=tmp_path / "g.jsonl", keep_input_columns=False)
    local = LocalEngine(seed=7).run(open_source(toy, batch_size=500), toy_checks(seed=7), **kw)
    kw["flags_path"] = tmp_path / "f.jsonl"
    remote = get_engine("ray", seed=7).run(open_source(toy, batch_size=500), toy_checks(seed=7), **kw)
    assert_same_results(local, remote)
    assert (tmp_path / "f.jsonl").read_text() == (tmp_path / "g.jsonl").read_text()
    assert '"id"' not in (tmp_path / "f.jsonl").read_text().splitlines()[0]


def test_ray_refuses_checks_with_state_across_batches(local_ray, toy):
    from artifactlens.errors import InputError
    with pytest.raises(InputError, match="keeps state from one batch to the next.*--engine local"):
        get_engine("ray").run(open_source(toy), [Stateful()])


def _instruction_batches(path, bs):
    from artifactlens.audits.instructions.layouts import detect_layout, normalise
    offset, spec = 0, None
    for b in open_source(path, batch_size=bs).batches():
        spec = spec or detect_layout(b.schema.names, None, None, None)
        yield normalise(b, spec, offset)
        offset += b.num_rows


def test_ray_equals_local_on_the_instructions_audit_check(local_ray, tmp_path):
    """The heavy workload: every heuristic detector of the instructions audit (no embeddings; the
    duplicate pass keeps state across batches, so it is left out) on the demo data."""
    check = pytest.importorskip("artifactlens.audits.instructions.check")
    from artifactlens.audits.common import demo_path
    from artifactlens.audits.instructions.audit import build_detectors
    data = demo_path("instructions.jsonl")

    def checks():
        return [check.InstructionCheck(build_detectors(embeddings=False), dedupe=None, seed=3)]
    local = LocalEngine(seed=3).run(_instruction_batches(data, 16), checks(), flags_path=tmp_path / "l.parquet")
    remote = get_engine("ray", workers=2, seed=3).run(_instruction_batches(data, 16), checks(),
                                                       flags_path=tmp_path / "r.parquet")
    a, b = local["instructions"], remote["instructions"]
    assert a["acc"].point() == b["acc"].point() and a["acc"].point()["error"] > 0
    for k in a["acc"].rep_sums:
        assert (a["acc"].rep_sums[k] == b["acc"].rep_sums[k]).all()
    assert {k: v.point() for k, v in a["by"].items()} == {k: v.point() for k, v in b["by"].items()}
    assert a["verbs"] == b["verbs"] and a["templates"] == b["templates"] and a["examples"] == b["examples"]
    fa, fb = pq.read_table(tmp_path / "l.parquet").to_pandas(), pq.read_table(tmp_path / "r.parquet").to_pandas()
    assert len(fa) > 20 and fa.equals(fb)  # NaN scores (detector not applicable) compare equal here
