"""``mlplab train``: the seed's XOR run by default; every exercise is an option away."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import click
import numpy as np

from mlplab.cli.data import (
    CLASSES_KEY,
    PreparedData,
    class_names,
    predicted_classes,
    prepare_data,
)
from mlplab.cli.options import (
    TrainConfig,
    fitting_options,
    json_option,
    network_options,
    plot_option,
    quiet_option,
)
from mlplab.cli.progress import epoch_progress
from mlplab.cli.runs import RunFiles, run_options
from mlplab.datasets import DATASETS
from mlplab.diagnostics import Diagnostics
from mlplab.errors import ConfigError
from mlplab.nn.network import MLP
from mlplab.train.fit import Callback, History
from mlplab.train.optimizers import Optimizer

__all__ = [
    "accuracy",
    "fit_network",
    "new_network",
    "run_training",
    "split_scores",
    "train",
    "training_rows",
]

MAX_TABLE_ROWS = 16


def accuracy(y: np.ndarray, t: np.ndarray) -> float:
    """Share of rows on the right side of 0.5 (one output) or with the right argmax."""
    if t.shape[-1] == 1:
        return float(np.mean((y > 0.5) == (t > 0.5)))
    return float(np.mean(y.argmax(axis=-1) == t.argmax(axis=-1)))


def training_rows(config: TrainConfig, holdout: int | None) -> tuple[PreparedData, np.ndarray]:
    """The configured data, split, and the rows to train on (minus ``holdout``)."""
    data = prepare_data(config)
    rows = data.parts.train
    if holdout is not None:
        if not 0 <= holdout < len(data.X):
            raise ConfigError(
                f"--holdout {holdout} is out of range: {data.source} has rows 0 to "
                f"{len(data.X) - 1}"
            )
        rows = rows[rows != holdout]
    return data, rows


def new_network(config: TrainConfig, data: PreparedData) -> MLP:
    """The configured network, carrying the data's split and class names."""
    net = MLP(config.sizes(data.X.shape[1], data.t.shape[1]), **config.network_kwargs())
    if data.classes is not None:
        net.training_metadata[CLASSES_KEY] = list(data.classes)
    net.training_metadata["split"] = {
        name: getattr(data.parts, name).tolist() for name in ("validation", "test")
    }
    return net


def fit_network(
    net: MLP,
    config: TrainConfig,
    data: PreparedData,
    rows: np.ndarray,
    *,
    epochs: int,
    quiet: bool,
    optimizer: Optimizer | None = None,
    callbacks: Sequence[Callback] = (),
    seed: int | np.random.Generator | None = None,
) -> History:
    """Train ``net`` on ``rows`` for ``epochs`` with the configured fitting options.

    With ``--standardize`` the network fits its input scaler on ``rows`` first.
    """
    inputs = data.X
    val = data.parts.validation
    watch = Diagnostics(net, every=max(1, epochs // 200))  # ~200 looks, whatever the length
    with epoch_progress(epochs, quiet=quiet) as bars:
        return net.fit(
            inputs[rows],
            data.t[rows],
            epochs=epochs,
            lr=config.lr,
            callbacks=[*bars, *callbacks, watch],
            optimizer=optimizer if optimizer is not None else config.optimizer,
            batch_size=config.batch_size,
            validation=(inputs[val], data.t[val]) if len(val) else None,
            early_stopping=config.early_stopping,
            schedule=config.schedule,
            weight_decay=config.weight_decay,
            seed=config.seed if seed is None else seed,
            standardize=config.standardize,
        )


def run_training(
    config: TrainConfig, *, holdout: int | None = None, quiet: bool = True
) -> tuple[MLP, History, np.ndarray, np.ndarray, float]:
    """Build and train the configured network; returns ``(net, history, X, t, seconds)``.

    ``X`` and ``t`` are all rows of the data as read; the split is in
    ``net.training_metadata`` and the standardisation (if any) is ``net.input_scaler``.
    """
    data, rows = training_rows(config, holdout)
    net = new_network(config, data)
    start = time.perf_counter()
    history = fit_network(net, config, data, rows, epochs=config.epochs, quiet=quiet)
    return net, history, data.X, data.t, time.perf_counter() - start


def split_scores(net: MLP, X: np.ndarray, t: np.ndarray) -> dict[str, dict[str, float]]:
    """Loss per example and accuracy on each part of the split the network was trained with."""
    inputs = X
    split = net.training_metadata.get("split", {})
    held = {name: np.asarray(split.get(name, []), dtype=int) for name in ("validation", "test")}
    train = np.setdiff1d(np.arange(len(X)), np.concatenate(list(held.values())))
    scores = {}
    for name, rows in (("train", train), *held.items()):
        if len(rows):
            loss = net.evaluate(inputs[rows], t[rows]) / (
                1 if net.reduction == "mean" else len(rows)
            )
            y = net.predict(inputs[rows])
            scores[name] = {
                "loss": float(loss),
                "accuracy": accuracy(y, t[rows]),
                "rows": len(rows),
            }
    return scores


def _table(
    X: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    holdout: int | None,
    classes: list[str] | None,
    bias_column: bool,
) -> str:
    n_in = X.shape[1]
    names = [f"x{i + 1}" for i in range(n_in)]
    if bias_column:  # the seed's constant-1 input
        names[-1] = "bias"
    header = "  ".join(f"{n:>5}" for n in names) + "  target  prediction"
    if classes is not None:
        header += "  class"
        target_names, predicted = predicted_classes(t, classes), predicted_classes(y, classes)
    rows = [header]
    for i, (x, target, pred) in enumerate(zip(X, t, y, strict=True)):
        cells = "  ".join(f"{v:>5g}" for v in x)
        targets = " ".join(f"{v:g}" for v in target)
        if classes is not None:
            targets = target_names[i]
        preds = " ".join(f"{v:.6f}" for v in pred)
        named = "" if classes is None else f"  {predicted[i]}"
        mark = "   (held out)" if i == holdout else ""
        rows.append(f"{cells}  {targets:>6}  {preds:>10}{named}{mark}")
    return "\n".join(rows)


@click.command()
@network_options
@fitting_options
@click.option(
    "--holdout",
    type=int,
    default=None,
    metavar="ROW",
    help="Train without this row (0-based), then show its prediction (exercise 4).",
)
@plot_option("Plot the loss against weight updates (exercise 5).")
@click.option(
    "--save",
    "save_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Save the trained model (safetensors).",
)
@json_option
@quiet_option
@run_options
def train(
    holdout: int | None,
    plot_path: str | None,
    save_path: str | None,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Train a network; with no options, the seed's 3-4-1 sigmoid network on XOR."""
    config = TrainConfig.from_options(options)
    files = RunFiles.from_options(options)  # --checkpoint, --resume, --record
    if files.active:
        config, holdout, net, history, X, t, seconds = files.train(
            config, holdout=holdout, quiet=quiet
        )
    else:
        net, history, X, t, seconds = run_training(config, holdout=holdout, quiet=quiet)
    y = net.predict(X)
    classes = class_names(net, "the trained model")
    scores = split_scores(net, X, t) if len(X) > MAX_TABLE_ROWS else {}
    if save_path:
        metadata = {"cli": config.to_dict(), "final_loss": history.final_loss}
        net.save(save_path, metadata=metadata)
    if plot_path:
        from mlplab.plotting import plot_loss

        plot_loss(history, plot_path, title=_title(config, net.sizes))
    if as_json:
        doc = {
            "predictions": y.tolist(),
            "targets": t.tolist(),
            "inputs": X.tolist(),
            "holdout": holdout,
            "final_loss": history.final_loss,
            "epochs": config.epochs,
            "seconds": seconds,
            "config": config.to_dict(),
            "events": [event.to_dict() for event in history.events],
            "scores": scores,
            "epochs_run": history.epochs,
        }
        if classes is not None:
            doc.update(classes=classes, predicted_classes=predicted_classes(y, classes))
        click.echo(json.dumps(doc))
        return
    click.echo(_title(config, net.sizes))
    click.echo()
    if len(X) <= MAX_TABLE_ROWS:
        gate = not config.data and DATASETS[config.dataset].gate
        click.echo(_table(X, t, y, holdout, classes, bias_column=gate))
    else:
        for name, score in scores.items():
            click.echo(
                f"{name:>10}: {score['rows']} examples, loss {score['loss']:.4g}, "
                f"accuracy {score['accuracy']:.1%}"
            )
    click.echo()
    stopped = f" (stopped after {history.epochs} epochs)" if history.epochs < config.epochs else ""
    click.echo(f"final loss {history.final_loss:.6g}   time {seconds:.2f} s{stopped}")
    if holdout is not None:
        right = bool((y[holdout] > 0.5) == (t[holdout] > 0.5))
        verdict = "right" if right else "wrong"
        click.echo(
            f"held-out row {holdout}: predicted {y[holdout, 0]:.4f} for target "
            f"{t[holdout, 0]:g}, on the {verdict} side of 0.5"
        )
    if history.events:
        click.echo("seen during training:")
        for event in history.events:
            click.echo(f"  {event}")
    for path, what in ((save_path, "model"), (plot_path, "loss plot")):
        if path:
            click.echo(f"{what} written to {path}")


def _title(config: TrainConfig, sizes: tuple[int, ...]) -> str:
    arch = "-".join(str(s) for s in sizes)
    optimizer = "" if config.optimizer == "sgd" else f", {config.optimizer}"
    batch = "" if config.batch_size is None else f", batch {config.batch_size}"
    return (
        f"{config.data or config.dataset}: {arch} {config.activation}/{config.output_activation}, "
        f"{config.loss} ({config.reduction}), {config.epochs} epochs, lr {config.lr:g}, "
        f"init {config.init}, seed {config.seed}{optimizer}{batch}"
    )
