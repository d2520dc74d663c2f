"""``--engine numpy|jax|auto`` on ``mlplab ensemble`` and ``mlplab sweep``, and auto's rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import missing_optional

from mlplab.cli import main
from mlplab.engines._jax_auto import AUTO_MIN_WORK, choose_engine
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
    # the compiled run looks every epochs // 500 epochs, after the update
    assert jax["epochs_to_solve"]["resolution"] == 2
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
