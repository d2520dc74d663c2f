"""The playground under either engine: the same training, compiles off the path, the option."""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest
from conftest import missing_optional, require

require("pydantic")

from mlplab.errors import ConfigError  # noqa: E402
from mlplab.playground import compiled  # noqa: E402
from mlplab.playground.compiled import LENGTHS, Compiler, Costs, Warmer  # noqa: E402
from mlplab.playground.schema import Settings  # noqa: E402
from mlplab.playground.session import Session  # noqa: E402

try:  # the engine configures JAX before anything imports it
    import mlplab.engines.jax  # noqa: F401
except ConfigError:
    missing_optional("jax is not installed")

SRC = Path(__file__).resolve().parents[1] / "src"
SET_UPS = {
    # the playground's default rate: at 0.3 with batches of 7, rounding's 1e-16 grows to 1e-13
    # in 8 epochs and to the weights' size in 32 (chaos, not a difference of the engines)
    "two classes, L2, batches of 7": Settings(hidden=(5, 3), batch_size=7, seed=4,
                                              regularization="L2", reg_rate=0.003),
    "three classes, L1, relu": Settings(dataset="spiral3", hidden=(6,), activation="relu",
                                        batch_size=16, regularization="L1", reg_rate=0.001),
    "regression, full batch": Settings(dataset="plane", problem="regression", hidden=(4,),
                                       lr=0.01, batch_size=1000, points=200),
}  # fmt: skip


def weights(session: Session) -> np.ndarray:
    return np.concatenate([v.ravel() for p in session.net.params for v in p.values()])


def assert_same_training(a: Session, b: Session) -> None:
    assert a.epoch == b.epoch
    wa, wb = weights(a), weights(b)
    assert np.abs(wa - wb).max() <= 1e-8 * np.abs(wb).max()
    np.testing.assert_allclose(wa, wb, rtol=1e-8, atol=1e-12)


def compile_lengths(settings: Settings, lengths: tuple[int, ...], compiler: Compiler) -> Session:
    """Have ``compiler`` compile these lengths for these settings, and wait for it; the
    session that asked (it holds the programs while it lives)."""
    warm = Session(settings, engine="jax", compiler=compiler)
    key = warm.trainer.program_key()
    for length in lengths:
        warm.trainer.ready_length(key, length, length)
        compiler.warmer.wait()
        assert compiler.warmer.ready((key, length))
    return warm


@pytest.mark.parametrize("name", SET_UPS)
def test_a_session_trains_the_same_weights_under_either_engine(name: str) -> None:
    settings = SET_UPS[name]
    numpy = Session(settings)
    numpy.train_for(math.inf, max_epochs=80)
    compiler = Compiler()
    warm = compile_lengths(settings, (64, 16), compiler)
    jax = Session(settings, engine="jax", compiler=compiler)
    jax.train_for(math.inf, max_epochs=80)  # 64 + 16, both compiled
    assert jax.trained_by == "jax" and numpy.trained_by == "numpy"
    assert jax.compile_seconds == 0.0  # nothing compiled inside the slice
    assert_same_training(jax, numpy)
    # and on from there: NumPy's slices and compiled ones continue one training
    numpy.train_for(math.inf, max_epochs=3)
    jax.train_for(math.inf, max_epochs=3)  # 3 epochs: no compiled length fits, NumPy trains
    assert jax.trained_by == "numpy"
    numpy.train_for(math.inf, max_epochs=64)
    jax.train_for(math.inf, max_epochs=64)
    assert jax.trained_by == "jax"
    assert_same_training(jax, numpy)
    warm.close()
    jax.close()
    assert compiler.keys == []  # the last tab gone: its programs let go


def test_until_its_program_is_compiled_a_session_trains_with_numpy_and_says_so(
    monkeypatch,
) -> None:
    gate, niceness = threading.Event(), []
    compiler = Compiler()
    warmer = compiler.warmer
    real_request = warmer.request

    def held(warm):  # compiles once the gate opens; notes the compiling thread's niceness
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        gate.wait(30)
        warm()

    monkeypatch.setattr(warmer, "request", lambda key, warm: real_request(key, lambda: held(warm)))
    session = Session(Settings(hidden=(3, 3), seed=9), engine="jax", compiler=compiler)
    session.playing = True
    assert session.frame()["engine"] == "jax" and session.frame()["trained_by"] is None
    done = session.train_for(0.05)
    frame = session.frame()
    assert done > 0 and frame["epoch"] == done
    assert frame["trained_by"] == "numpy" and frame["engine"] == "jax" and frame["compiling"]
    assert not any(warmer.ready(key) for key in warmer._waiting)  # asked for, not compiled
    gate.set()
    warmer.wait(60)
    session.train_for(0.05)
    frame = session.frame()
    assert frame["trained_by"] == "jax"
    assert frame["compiling"] == warmer.busy  # (it may have asked for a longer length now)
    assert session.compile_seconds == 0.0
    if sys.platform == "linux":  # the compiling thread yields the CPU to the tabs training
        assert niceness and min(niceness) >= min(compiled.NICE, 19)


def test_the_programs_of_a_shape_are_let_go_when_its_last_tab_closes() -> None:
    compiler = Compiler()
    settings = Settings(hidden=(2,), seed=3)
    first = compile_lengths(settings, (1,), compiler)
    key = first.trainer.program_key()
    second = Session(settings, engine="jax", compiler=compiler)
    second.playing = True
    second.train_for(0.05)  # trains the same program: shares it
    engine = compiler.engine(key)
    assert compiler.keys == [key] and compiler.warmer.ready((key, 1))
    first.close()
    assert compiler.keys == [key] and compiler.engine(key) is engine  # the other tab trains it
    second.configure(settings.model_copy(update={"hidden": (3,)}))  # a new shape: a new key
    second.train_for(0.05)
    assert key not in compiler.keys and not compiler.warmer.ready((key, 1))
    second.close()
    compiler.warmer.wait(60)
    assert compiler.keys == [] and not compiler.warmer.busy
    held = weakref.ref(engine)  # the engine holding the shape's compiled programs
    del engine
    gc.collect()
    assert held() is None  # freed, and its programs with it
    compiler.close()


def test_slices_take_the_longest_length_that_fits() -> None:
    costs = Costs()
    numpy_epoch = 1e-3  # nothing measured: NumPy's rate, an upper bound
    assert costs.choose(10_000, 0.02, numpy_epoch) == 16
    assert costs.choose(10, 0.02, numpy_epoch) == 4  # no more epochs than asked for
    assert costs.choose(10_000, 0.0005, numpy_epoch) == 0  # nothing fits
    costs.record(16, 0.004)  # measured
    assert costs.estimate(64, numpy_epoch) == pytest.approx(0.008)  # one step up: twice
    assert costs.estimate(256, numpy_epoch) == pytest.approx(0.032)  # then in proportion
    assert costs.estimate(4, numpy_epoch) == pytest.approx(0.001)
    assert costs.choose(10_000, 0.02, numpy_epoch) == 64
    costs.record(64, 0.03)  # a slow outlier raises an estimate by a quarter at most
    costs.record(64, 0.5)
    assert costs.seconds[64] == pytest.approx(0.0375)
    costs.record(64, 0.01)  # and a lower time is taken as it is
    assert costs.seconds[64] == 0.01
    costs.record(1, 0.002)
    costs.record(4, 0.003)  # a call's fixed cost: 4 epochs cost little more than 1
    assert costs.choose(10_000, 0.0015, numpy_epoch) == 0  # nothing fits 1.5 ms
    assert costs.choose(10_000, 0.0015, numpy_epoch, first=True) == 4  # within half a call
    assert set(LENGTHS) == {4**i for i in range(len(LENGTHS))}


def test_a_setup_the_compiled_engine_refuses_stays_with_numpy(monkeypatch) -> None:
    warmer = Warmer()

    def refused() -> None:
        raise ConfigError("engine 'jax' cannot")

    warmer.request("key", refused)
    warmer.wait(30)
    assert not warmer.ready("key") and not warmer.wanted("key")  # never asked for again
    assert compiled.MAX_WAITING >= 1


def test_an_unknown_session_engine_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^unknown engine 'torch'; expected one of: numpy, jax$"):
        Session(engine="torch")


def test_the_app_s_sessions_train_with_its_engine() -> None:
    require("starlette")
    require("httpx2")
    from starlette.testclient import TestClient

    from mlplab.playground.app import create_app

    for engine in ("numpy", "jax"):
        with TestClient(create_app(engine=engine), base_url="http://127.0.0.1:8000") as client:
            ws = client.websocket_connect("ws://127.0.0.1:8000/ws",
                                          headers={"origin": "http://127.0.0.1:8000"})  # fmt: skip
            with ws:
                frames = []
                ws.send_json({"type": "play"})
                while len(frames) < 3:
                    message = ws.receive_json()
                    if message["type"] == "frame" and message["playing"]:
                        frames.append(message)
                ws.send_json({"type": "pause"})
            assert {f["engine"] for f in frames} == {engine}
            assert frames[-1]["trained_by"] in ({"numpy"} if engine == "numpy" else
                                                {"numpy", "jax"})  # fmt: skip


# --- the option ---------------------------------------------------------------------


def test_the_engine_option_is_a_choice_defaulting_to_auto(capsys) -> None:
    from mlplab.cli import main

    assert main(["playground", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--engine [numpy|jax|auto]" in out and "[default: auto]" in out
    assert main(["playground", "--engine", "torch"]) == 2
    assert "'torch' is not one of 'numpy', 'jax', 'auto'" in capsys.readouterr().err


def test_auto_takes_jax_when_installed_and_numpy_when_not(monkeypatch) -> None:
    from mlplab.cli.playground import _engine

    assert _engine("auto") == "jax" and _engine("jax") == "jax" and _engine("numpy") == "numpy"
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # JAX not installed
    assert _engine("auto") == "numpy"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(SRC)})  # fmt: skip


def test_engine_jax_without_jax_installed_is_one_line_and_a_non_zero_exit() -> None:
    code = ("import sys; sys.modules['jax'] = None\n"
            "from mlplab.cli import main\n"
            "from mlplab.cli.playground import _engine\n"
            "print(_engine('auto'))\n"
            "sys.exit(main(['playground', '--engine', 'jax', '--port', '0']))")  # fmt: skip
    run = _python(code)
    assert run.returncode == 1 and run.stdout == "numpy\n"
    assert run.stderr == ("mlplab: error: engine 'jax' needs JAX: pip install 'mlplab[jax]' "
                          "(or use engine='numpy')\n")  # fmt: skip
