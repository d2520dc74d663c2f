"""``--engine numpy|jax|auto`` on ``mlplab ensemble`` and ``mlplab sweep``, and auto's rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import missing_optional

from mlplab.cli import main
from mlplab.engines import AUTO_MIN_WORK, choose_engine
from mlplab.errors import ConfigError

try:  # the engine configures JAX before anything imports it
    import mlplab.engines.jax  # noqa: F401
except ConfigError:
    missing_optional("jax is not installed")


def test_auto_compiles_only_large_work_and_only_with_jax(monkeypatch) -> None:
    assert choose_engine("auto", 10, 1500) == "numpy"
    assert choose_engine("auto", 1000, AUTO_MIN_WORK // 1000) == "jax"
    assert choose_engine("numpy", 10**4, 10**6) == "numpy"
    assert choose_engine("jax", 1, 1) == "jax"
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # JAX not installed
    assert choose_engine("auto", 1000, 60000) == "numpy"
    with pytest.raises(ConfigError, match=r"unknown engine 'torch'; expected one of: numpy, jax"):
        choose_engine("torch", 1, 1)


def _ensemble(capsys, *extra: str) -> dict:
    args = ["ensemble", "--nets", "12", "--epochs", "1000", "--seed", "3", "--json", "-q"]
    assert main([*args, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_ensemble_on_either_engine_solves_the_same_seeds(capsys) -> None:
    numpy, jax = _ensemble(capsys, "--engine", "numpy"), _ensemble(capsys, "--engine", "jax")
    assert jax["config"]["engine"] == "jax" and numpy["config"]["engine"] == "numpy"
    assert jax["solved_fraction"] == numpy["solved_fraction"] > 0
    assert jax["final_loss"]["p50"] == pytest.approx(numpy["final_loss"]["p50"], rel=1e-9)
    # full batch, the compiled run watches the logged accuracy as often as NumPy's watch looks
    assert jax["epochs_to_solve"] == numpy["epochs_to_solve"]
    assert jax["epochs_to_solve"]["resolution"] == 1


def test_a_compiled_ensemble_in_mini_batches_watches_after_the_blocks(capsys) -> None:
    batches = ("--batch-size", "2", "--epochs", "1000")
    numpy = _ensemble(capsys, "--engine", "numpy", *batches)
    jax = _ensemble(capsys, "--engine", "jax", *batches)
    assert jax["solved_fraction"] == numpy["solved_fraction"]
    # every 1000 // 500 epochs, predicting every row where a compiled block ends
    assert jax["epochs_to_solve"]["resolution"] == 2 and numpy["epochs_to_solve"]["resolution"] == 1
    assert abs(jax["epochs_to_solve"]["median"] - numpy["epochs_to_solve"]["median"]) <= 2


def test_ensemble_defaults_to_auto(capsys) -> None:
    assert _ensemble(capsys)["config"]["engine"] == "auto"


def test_sweep_takes_the_engine(capsys) -> None:
    args = ["sweep", "--hidden", "2,3", "--epochs", "400", "--nets", "4", "--workers", "1",
            "--engine", "jax", "--json", "-q"]  # fmt: skip
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["engine"] == "jax" and len(doc["cells"]) == 2


def test_an_unknown_engine_is_one_line_and_exit_2(capsys) -> None:
    assert main(["ensemble", "--engine", "torch", "-q"]) == 2
    err = capsys.readouterr().err
    assert "'torch' is not one of 'numpy', 'jax', 'auto'" in err


def test_train_on_the_compiled_engine_gives_the_seed_run_and_reports_compiling(capsys):
    runs = {}
    for engine in ("numpy", "jax"):
        assert main(["train", "--engine", engine, "--json", "-q"]) == 0
        runs[engine] = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(runs["jax"]["predictions"], runs["numpy"]["predictions"],
                               atol=1e-9)  # fmt: skip
    # compiling is reported apart (0 here if an earlier test compiled the same program)
    assert runs["jax"]["compile_seconds"] >= 0 and runs["numpy"]["compile_seconds"] == 0
    assert runs["jax"]["config"]["engine"] == "jax"


def _loo(capsys, *extra: str) -> dict:
    assert main(["loo", "--seeds", "4", "--epochs", "700", "--json", "-q", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_loo_on_either_engine_gives_the_same_rows_and_curves(capsys, tmp_path) -> None:
    from mlplab.experiments.config import TrainConfig
    from mlplab.experiments.loo import leave_one_out

    numpy, jax = _loo(capsys, "--engine", "numpy"), _loo(capsys, "--engine", "jax")
    assert (numpy["engine"], jax["engine"]) == ("numpy", "jax")
    for a, b in zip(numpy["rows"], jax["rows"], strict=True):
        assert a["right_fraction"] == b["right_fraction"]
        np.testing.assert_allclose(b["mean_prediction"], a["mean_prediction"], rtol=1e-9)
    # the curves: read from the network (NumPy) or from the epochs' logs (compiled)
    curves = {e: leave_one_out(TrainConfig(epochs=700, engine=e), 4) for e in ("numpy", "jax")}
    for a, b in zip(curves["numpy"]["rows"], curves["jax"]["rows"], strict=True):
        for name in ("train_curve", "heldout_curve"):
            assert len(a[name]) == len(b[name]) == len(curves["numpy"]["record_epochs"])
            np.testing.assert_allclose(b[name], a[name], rtol=1e-9)
    plot = tmp_path / "loo.png"
    # the program compiled above (4 seeds, 700 epochs), now with the plot
    assert main(["loo", "--seeds", "4", "--epochs", "700", "--engine", "jax", "-q",
                 "--plot", str(plot)]) == 0  # fmt: skip
    assert "(engine jax)" in capsys.readouterr().out and plot.stat().st_size > 0


def test_loo_defaults_to_auto(capsys) -> None:
    doc = _loo(capsys)
    assert doc["config"]["engine"] == "auto" and doc["engine"] == "numpy"  # 2800 net-epochs
    assert choose_engine("auto", 20, 60000) == "jax"  # the default loo: 1.2e6


def test_device_cpu_runs_and_a_missing_gpu_is_one_line(capsys) -> None:
    # the shapes the other tests here compile (30 epochs: test_device_through_the_python_api),
    # so the compiled programs are reused
    commands = (["train", "--epochs", "30"],
                ["ensemble", "--nets", "12", "--epochs", "1000", "--seed", "3"],
                ["loo", "--seeds", "4", "--epochs", "700"])  # fmt: skip
    for command in commands:
        args = [*command, "--engine", "jax", "--json", "-q"]
        assert main([*args, "--device", "cpu"]) == 0
        assert json.loads(capsys.readouterr().out)["config"]["device"] == "cpu"
        assert main([*args, "--device", "gpu"]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "device 'gpu' asked for, but JAX finds none" in err
        assert "pip install 'jax[cuda12]'" in err and "Traceback" not in err
    assert main(["sweep", "--hidden", "2", "--epochs", "20", "--nets", "2", "--workers", "1",
                 "--engine", "jax", "--device", "gpu", "-q"]) == 1  # fmt: skip
    assert "JaxEngine" not in capsys.readouterr().err


def test_device_gpu_needs_the_compiled_engine(capsys) -> None:
    assert main(["train", "--device", "gpu", "-q"]) == 1  # train's engine: numpy
    assert "--device gpu needs the compiled engine: --engine jax" in capsys.readouterr().err
    assert main(["ensemble", "--device", "tpu", "-q"]) == 2
    assert "'tpu' is not one of 'cpu', 'gpu'" in capsys.readouterr().err
    # auto with a GPU asked for compiles, whatever the size
    assert choose_engine("auto", 1, 1, "gpu") == "jax"
    assert choose_engine("auto", 1, 1, "cpu") == "numpy"


def test_device_through_the_python_api() -> None:
    from mlplab import MLP, load_dataset
    from mlplab.engines import get_engine
    from mlplab.engines.jax import JaxEngine

    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    net.fit(X, t, epochs=30, engine="jax", device="cpu")
    with pytest.raises(ConfigError, match="device 'gpu' needs the compiled engine"):
        net.fit(X, t, epochs=1, device="gpu")
    with pytest.raises(ConfigError, match=r"unknown device 'tpu'; expected one of: cpu, gpu"):
        net.fit(X, t, epochs=1, engine="jax", device="tpu")
    with pytest.raises(ConfigError, match=r"an engine object chooses its own device"):
        get_engine(JaxEngine("cpu"), "cpu")


def _gpus() -> list:
    import jax

    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


@pytest.mark.skipif(not _gpus(), reason="no GPU here: JAX finds none (pip install 'jax[cuda12]' "
                    "on a machine with an NVIDIA GPU runs this)")  # fmt: skip
def test_a_stack_on_the_gpu_equals_the_cpu() -> None:  # pragma: no cover - needs a GPU
    from mlplab import MLP, load_dataset

    X, t = load_dataset("xor")
    nets = {d: MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=256) for d in ("cpu", "gpu")}
    for device, net in nets.items():
        net.fit(X, t, epochs=2000, engine="jax", device=device)
    np.testing.assert_allclose(nets["gpu"].predict(X), nets["cpu"].predict(X), rtol=1e-9)


def test_fit_takes_engine_auto() -> None:
    from mlplab import MLP, load_dataset
    from mlplab.experiments.stacks import train_stack

    X, t = load_dataset("xor")
    small = MLP([3, 4, 1], bias=False, init="seed", seed=0)
    assert "compile_seconds" not in small.fit(X, t, epochs=50, engine="auto").extra  # numpy
    big = MLP([3, 4, 1], bias=False, init="seed", seed=0, stack=AUTO_MIN_WORK // 2000)
    assert "compile_seconds" in big.fit(X, t, epochs=2000, engine="auto").extra  # compiled
    # a small stack under auto: NumPy, watched every epoch (compiled: every 1000 // 500)
    outcome = train_stack(MLP([3, 2, 1], seed=0, stack=4), X, t, epochs=1000, engine="auto")
    assert outcome.watch_every == 1
    assert "compile_seconds" not in outcome.history.extra
