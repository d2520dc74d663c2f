"""Engine ``jax`` under the driver: callbacks, stopping, checkpoints, errors, the backward pass
against ``jax.grad``, compile time and the disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import missing_optional, require
from helpers import OUTPUT_LOSS_PAIRS, targets_for

from mlplab import MLP, load_dataset
from mlplab.errors import ConfigError
from mlplab.train.optimizers import SGD
from mlplab.train.schedules import Adaptive
from mlplab.train.stopping import EarlyStopping

try:  # the engine configures JAX before anything imports it
    import mlplab.engines.jax as engine_jax
except ConfigError:
    missing_optional("jax is not installed")

SRC = Path(__file__).resolve().parents[1] / "src"


def flat(net: MLP) -> list[np.ndarray]:
    return [v.copy() for p in net.params for v in p.values()]


def close(a: list[np.ndarray], b: list[np.ndarray], rel: float = 1e-8) -> bool:
    return all(np.allclose(x, y, rtol=rel, atol=rel) for x, y in zip(a, b, strict=True))


def blobs(seed: int = 0, n: int = 60):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 2)) + np.array([[0, 0], [3, 0], [0, 3]])[labels]
    return X, labels


def classifier(seed: int = 0) -> MLP:
    return MLP([2, 6, 3], activation="tanh", output_activation="softmax", loss="cross_entropy",
               reduction="mean", seed=seed)  # fmt: skip


def test_callbacks_get_the_same_logs_epoch_by_epoch_from_both_engines() -> None:
    X, labels = blobs()
    seen: dict[str, list] = {"numpy": [], "jax": []}
    for engine, logs in seen.items():
        def note(epoch, epoch_logs, logs=logs):
            logs.append((epoch, dict(epoch_logs)))

        classifier().fit(X, labels, epochs=40, optimizer="adam", lr=0.05, batch_size=16,
                         validation=0.2, engine=engine, callbacks=[note])  # fmt: skip
    assert [e for e, _ in seen["jax"]] == list(range(40))
    for (_, a), (_, b) in zip(seen["numpy"], seen["jax"], strict=True):
        assert a.keys() == b.keys() == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(np.isclose(a[k], b[k], rtol=1e-8) for k in a)


def test_a_callback_stopping_mid_block_leaves_that_epochs_weights_and_generator() -> None:
    X, labels = blobs()
    nets, states = [], []
    for engine in ("numpy", "jax"):
        net, rng = classifier(), np.random.default_rng(5)
        history = net.fit(X, labels, epochs=100, optimizer="momentum", lr=0.1, batch_size=7,
                          seed=rng, engine=engine, callbacks=[lambda e, logs: e == 36])  # fmt: skip
        assert history.epochs == 37
        nets.append(flat(net))
        states.append(rng.integers(0, 2**31))
    assert close(nets[1], nets[0])
    assert states[1] == states[0]  # the same permutations drawn, no more


def test_early_stopping_restores_the_same_best_weights() -> None:
    X, labels = blobs(n=90)
    runs = []
    for engine in ("numpy", "jax"):
        net = classifier()
        history = net.fit(X, labels, epochs=300, optimizer="adam", lr=0.1, validation=0.3,
                          early_stopping=EarlyStopping(patience=5), engine=engine)  # fmt: skip
        runs.append((history.epochs, history.best_epoch, flat(net)))
    assert runs[1][:2] == runs[0][:2]
    assert runs[0][0] < 300  # it did stop early
    assert close(runs[1][2], runs[0][2])


def test_the_loss_reading_schedule_runs_alike() -> None:
    X, labels = blobs()
    runs = []
    for engine in ("numpy", "jax"):
        net, schedule, opt = classifier(), Adaptive(patience=2, tol=1e-3), SGD(0.5)
        history = net.fit(X, labels, epochs=120, optimizer=opt, schedule=schedule, engine=engine)
        runs.append((history.epochs, opt.lr, flat(net)))
    assert runs[1][:2] == runs[0][:2]
    assert runs[0][1] < 0.5  # the rate was lowered
    assert close(runs[1][2], runs[0][2])


def test_checkpoints_saved_under_jax_resume_bit_exact_within_the_engine(tmp_path: Path) -> None:
    from mlplab.io.checkpoints import CheckpointCallback, load_checkpoint
    from mlplab.train.optimizers import Adam

    X, labels = blobs()
    straight = classifier()
    straight.fit(X, labels, epochs=60, optimizer=Adam(0.05), batch_size=16, seed=1, engine="jax")
    net, optimizer, rng = classifier(), Adam(0.05), np.random.default_rng(1)
    saver = CheckpointCallback(tmp_path / "ck", net, optimizer, every=25, rng=rng)
    net.fit(X, labels, epochs=40, optimizer=optimizer, batch_size=16, seed=rng, engine="jax",
            callbacks=[saver])  # fmt: skip
    saved = load_checkpoint(tmp_path / "ck")
    assert saved.epoch == 25
    resumed = Adam(0.05)
    saved.restore_optimizer(resumed)
    saved.net.fit(X, labels, epochs=35, optimizer=resumed, batch_size=16, seed=saved.rng,
                  engine="jax")  # fmt: skip
    for a, b in zip(flat(saved.net), flat(straight), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS_PAIRS)
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "softplus"])
def test_the_backward_pass_is_the_gradient_jax_grad_finds(hidden, output, loss) -> None:
    import jax

    from mlplab.engines._jax_program import plan_for
    from mlplab.nn.layer import forward, loss_and_grads, plain_layers
    from mlplab.train.job import prepare_job

    jnp = jax.numpy
    rng = np.random.default_rng(0)
    net = MLP([3, 5, 4, 2], activation=hidden, output_activation=output, loss=loss, seed=3)
    X, T = rng.normal(size=(9, 3)), targets_for(output, loss, 9, 2, rng)
    weight = rng.uniform(0.5, 2, 9)
    job = prepare_job(net, X, T, lr=1.0, optimizer=None, batch_size=None, shuffle=True,
                      validation=None, schedule=None, weight_decay=0.0, seed=0,
                      standardize=False, sample_weight=weight)  # fmt: skip
    plan = plan_for(job)  # what the compiled step runs
    params = [{k: jnp.asarray(v) for k, v in p.items()} for p in net.params]

    def loss_of(p):
        layers = plain_layers(p, plan.activations, jnp)
        forward(layers, job.X)
        return plan.objective(layers[-1], job.T, job.weight)[0]

    layers = plain_layers(params, plan.activations, jnp)
    loss_and_grads(layers, plan.objective, job.X, job.T, job.weight)
    grads = [layer.grad for layer in layers]
    auto = jax.grad(loss_of)(params)
    for ours, theirs in zip(jax.tree.leaves(grads), jax.tree.leaves(auto), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_a_users_activation_calling_numpy_is_refused_in_one_line() -> None:
    from mlplab.nn.activations import ACTIVATIONS, register_activation

    register_activation("np_tanh_h16", np.tanh, lambda h: 1 - h * h, replace=True)
    try:
        net = MLP([2, 3, 1], activation="np_tanh_h16")
        with pytest.raises(ConfigError) as info:
            net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, engine="jax")
        message = str(info.value)
        assert "'np_tanh_h16' cannot run on JAX arrays" in message
        assert "engine='numpy'" in message and "\n" not in message
        net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1)  # the NumPy engine still trains it
    finally:
        del ACTIVATIONS["np_tanh_h16"]


def test_optimizers_and_devices_the_engine_cannot_run_are_refused() -> None:
    class Halving:
        def step(self, params, grads):
            for p, g in zip(params, grads, strict=True):
                p -= g / 2

    with pytest.raises(ConfigError, match=r"runs the optimizers sgd, momentum, nesterov, adam"):
        MLP([2, 1]).fit(np.zeros((3, 2)), np.zeros(3), epochs=1, optimizer=Halving(),
                        engine="jax")  # fmt: skip
    with pytest.raises(ConfigError, match=r"unknown device 'tpu'; expected one of: cpu, gpu"):
        engine_jax.JaxEngine("tpu")


def test_asking_for_a_gpu_where_there_is_none_says_so() -> None:
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if gpus:
        net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
        net.fit(*load_dataset("xor"), epochs=10, engine=engine_jax.JaxEngine("gpu"))
        return
    with pytest.raises(ConfigError, match=r"device 'gpu' asked for, but JAX finds none"):
        engine_jax.JaxEngine("gpu")


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SRC), **env})  # fmt: skip


def test_engine_jax_without_jax_installed_names_what_to_install() -> None:
    code = ("import sys; sys.modules['jax'] = None\n"
            "from mlplab import MLP, load_dataset\n"
            "try:\n    MLP([3, 1]).fit(*load_dataset('xor'), epochs=1, engine='jax')\n"
            "except Exception as e:\n    print(type(e).__name__, e)")  # fmt: skip
    out = _python(code).stdout.strip()
    assert out == ("ConfigError engine 'jax' needs JAX: pip install 'mlplab[jax]' "
                   "(or use engine='numpy')")  # fmt: skip


def test_compilation_is_timed_apart_and_kept_on_disk(tmp_path: Path) -> None:
    """The second process reads the program back from disk (JAX's cache events say so).

    That reading back is also faster is measured in benchmarks/engines.py, not here.
    """
    code = ("import mlplab.engines.jax as ej\n"
            "import jax\n"
            "from mlplab import MLP, load_dataset\n"
            "from mlplab.train.job import prepare_job\n"
            "events = []\n"
            "jax.monitoring.register_event_listener(lambda event, **_: events.append(event))\n"
            "net = MLP([3, 5, 1], seed=0)\n"
            "job = prepare_job(net, *load_dataset('xor'), lr=1.0, optimizer=None,\n"
            "    batch_size=None, shuffle=True, validation=None, schedule=None,\n"
            "    weight_decay=0.0, seed=0, standardize=False, sample_weight=None)\n"
            "runner = ej.JaxEngine().start(job)\n"
            "runner.run(0, 123)\n"
            "print(runner.compile_seconds,\n"
            "      events.count('/jax/compilation_cache/cache_hits'),\n"
            "      events.count('/jax/compilation_cache/cache_misses'))")  # fmt: skip
    cache = tmp_path / "cache"
    seconds, hits, misses = _python(code, MLPLAB_JAX_CACHE=str(cache)).stdout.split()
    assert float(seconds) > 0 and (int(hits), int(misses)) == (0, 1)  # compiled, timed
    assert any(cache.iterdir())  # the compiled program is on disk
    seconds, hits, misses = _python(code, MLPLAB_JAX_CACHE=str(cache)).stdout.split()
    assert float(seconds) > 0 and (int(hits), int(misses)) == (1, 0)  # read back, not compiled


def test_importing_the_engine_sets_the_cpu_flags_devices_and_float64() -> None:
    code = ("import os, mlplab.engines.jax as ej, jax\n"
            "print(os.environ['XLA_FLAGS'], len(jax.devices('cpu')), os.cpu_count(),\n"
            "      jax.config.jax_enable_x64)")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(SRC)}).stdout.split()  # fmt: skip
    assert out == ["--xla_cpu_multi_thread_eigen=false", out[2], str(os.cpu_count()), "True"]
    assert out[1] == out[2]  # one CPU device per core


def test_sparse_inputs_are_refused_in_one_line() -> None:
    from dataclasses import replace

    sparse = require("scipy.sparse")  # scipy comes with scikit-learn in dev
    from mlplab.train.job import prepare_job

    X, t = load_dataset("xor")
    job = prepare_job(MLP([3, 2, 1]), X, t, lr=1.0, optimizer=None, batch_size=None,
                      shuffle=True, validation=None, schedule=None, weight_decay=0.0, seed=0,
                      standardize=False, sample_weight=None)  # fmt: skip
    with pytest.raises(ConfigError, match=r"engine 'jax' trains on dense inputs.*engine='numpy'"):
        engine_jax.JaxEngine().start(replace(job, X=sparse.csr_matrix(job.X)))


def test_compile_seconds_are_reported_apart_from_the_training_time():
    from mlplab import MLP, load_dataset

    X, t = load_dataset("xor")
    history = MLP([3, 4, 1], bias=False, init="seed", seed=0).fit(X, t, epochs=50, engine="jax")
    assert history.extra["compile_seconds"] >= 0 and history.seconds >= 0
    assert "compile_seconds" not in MLP([3, 4, 1], seed=0).fit(X, t, epochs=5).extra


def test_a_long_compiled_stack_keeps_its_metrics_at_the_loss_epochs():
    from test_stacks import long_stack_metrics

    long_stack_metrics("jax")
