"""``mlplab train``: the seed's XOR run by default; every exercise is an option away."""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from mlplab.cli.options import (
    device_option,
    fitting_options,
    json_option,
    network_options,
    plot_option,
    quiet_option,
    run_options,
    train_engine_option,
)
from mlplab.cli.outputs import check_outputs
from mlplab.datasets import DATASETS
from mlplab.errors import ConfigError
from mlplab.experiments.checkpointed import RunFiles
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.data import class_names, predicted_classes
from mlplab.experiments.defaults import task_defaults
from mlplab.experiments.runs import run_training, split_scores
from mlplab.nn.network import MLP
from mlplab.nn.targets import correct
from mlplab.train.history import History

__all__ = ["train"]

# options that --resume may be combined with; the rest come from the checkpoint
RESUMABLE = frozenset(
    {"as_json", "quiet", "save_path", "plot_path", "checkpoint", "checkpoint_every", "record",
     "resume", "epochs"}
)  # fmt: skip
MAX_TABLE_ROWS = 16


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
@train_engine_option
@device_option
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
    files.check()
    check_outputs(
        {"--save": save_path, "--checkpoint" if files.checkpoint else "--resume":
         files.checkpoint or files.resume, "--record": files.record},
        {"--plot": plot_path},
        {"data file (--data)": config.data},
    )  # fmt: skip
    more_epochs = _resume_settings(config) if files.resume else None
    notes = []
    if not files.resume:
        given = _given()
        config, chosen = task_defaults(config, given, checkpointing=files.active)
        notes = [chosen] if chosen else []  # a chosen early stopping names what it watches
        notes += _notes(config) if "early_stopping" in given else []
    if files.active:
        config, holdout, net, history, X, t, seconds = files.train(
            config, holdout=holdout, quiet=quiet, say=None if as_json else _say,
            epochs=more_epochs,
        )  # fmt: skip
    else:
        net, history, X, t, seconds = run_training(config, holdout=holdout, quiet=quiet)
    y = net.predict(X)
    classes = class_names(net, "the trained model")
    scores = split_scores(net, X, t, holdout=holdout)
    if as_json:
        _write_outputs(net, history, config, save_path, plot_path)
        doc = _document(config, history, X, t, y, holdout, seconds, scores, classes)
        click.echo(json.dumps({**doc, "notes": notes}))
        return
    _report(config, net, history, X, t, y, holdout, seconds, scores, classes, notes)
    _write_outputs(net, history, config, save_path, plot_path)
    for path, what in ((save_path, "model"), (plot_path, "loss plot")):
        if path:
            click.echo(f"{what} written to {path}")


def _given() -> set[str]:
    """The options given on the command line (not defaulted)."""
    ctx = click.get_current_context()
    source = click.core.ParameterSource.COMMANDLINE
    return {name for name in ctx.params if ctx.get_parameter_source(name) == source}


def _say(text: str) -> None:
    click.echo(text, err=True)


def _notes(config: TrainConfig) -> list[str]:
    """What the run does where it is not what the option's name suggests."""
    if config.early_stopping and not config.validation:
        return [
            f"note: --early-stopping {config.early_stopping} without --validation watches the "
            "training loss"
        ]
    return []


def _write_outputs(
    net: MLP, history: History, config: TrainConfig, save_path: str | None, plot_path: str | None
) -> None:
    """Write the model and the plot (after the results are shown: a failed write loses none)."""
    if save_path:
        metadata = {"cli": config.to_dict(), "final_loss": history.final_loss}
        net.save(save_path, metadata=metadata)
    if plot_path:
        from mlplab.plot import plot_loss

        plot_loss(history, plot_path, title=_title(config, net.sizes))


def _document(
    config: TrainConfig,
    history: History,
    X: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    holdout: int | None,
    seconds: float,
    scores: dict[str, Any],
    classes: list[str] | None,
) -> dict[str, Any]:
    doc = {
        "predictions": y.tolist(),
        "targets": t.tolist(),
        "inputs": X.tolist(),
        "holdout": holdout,
        "final_loss": history.final_loss,
        "epochs": config.epochs,
        "seconds": seconds,
        "compile_seconds": float(history.extra.get("compile_seconds", 0.0)),
        "config": config.to_dict(),
        "events": [event.to_dict() for event in history.events],
        "scores": scores,
        "epochs_run": history.epochs,
    }
    if classes is not None:
        doc.update(classes=classes, predicted_classes=predicted_classes(y, classes))
    return doc


def _report(
    config: TrainConfig,
    net: MLP,
    history: History,
    X: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    holdout: int | None,
    seconds: float,
    scores: dict[str, Any],
    classes: list[str] | None,
    notes: list[str],
) -> None:
    click.echo(_title(config, net.sizes))
    for note in notes:
        click.echo(note)
    click.echo()
    if len(X) <= MAX_TABLE_ROWS:
        gate = not config.data and DATASETS[config.dataset].gate
        click.echo(_table(X, t, y, holdout, classes, bias_column=gate))
    if len(X) > MAX_TABLE_ROWS or set(scores) - {"train"}:
        for name, score in scores.items():
            click.echo(
                f"{name:>10}: {score['rows']} examples, mean loss per example "
                f"{score['loss']:.4g}, accuracy {score['accuracy']:.1%}"
            )
    click.echo()
    stopped = f" (stopped after {history.epochs} epochs)" if history.epochs < config.epochs else ""
    rows = scores["train"]["rows"] if "train" in scores else len(X)
    unit = "summed" if config.reduction == "sum" else "mean"
    click.echo(
        f"final loss {history.final_loss:.6g} ({unit} over the {rows} training examples)   "
        f"time {seconds:.2f} s{stopped}"
    )
    if holdout is not None:
        right = bool(correct(y[holdout], t[holdout]))
        verdict = "right" if right else "wrong"
        click.echo(
            f"held-out row {holdout}: predicted {y[holdout, 0]:.4f} for target "
            f"{t[holdout, 0]:g}, on the {verdict} side of 0.5"
        )
    if history.events:
        click.echo("seen during training:")
        for event in history.events:
            click.echo(f"  {event}")


def _title(config: TrainConfig, sizes: tuple[int, ...]) -> str:
    arch = "-".join(str(s) for s in sizes)
    optimizer = "" if config.optimizer == "sgd" else f", {config.optimizer}"
    batch = "" if config.batch_size is None else f", batch {config.batch_size}"
    return (
        f"{config.data or config.dataset}: {arch} {config.activation}/{config.output_activation}, "
        f"{config.loss} ({config.reduction}), {config.epochs} epochs, lr {config.lr:g}, "
        f"init {config.init}, seed {config.seed}{optimizer}{batch}"
    )


def _resume_settings(config: TrainConfig) -> int | None:
    """Refuse settings given with --resume (the checkpoint has its own), except --epochs,
    which continues the run further: returns the epochs given, or ``None``."""
    ctx = click.get_current_context()
    given = [
        name
        for name in ctx.params
        if name not in RESUMABLE
        and ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(given))
        raise ConfigError(
            f"--resume continues the run saved in the checkpoint with its own settings; "
            f"drop {flags} (a larger --epochs may continue it further)"
        )
    source = ctx.get_parameter_source("epochs")
    return config.epochs if source == click.core.ParameterSource.COMMANDLINE else None
