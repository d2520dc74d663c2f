"""``mlplab train``: the seed's XOR run by default; every exercise is an option away."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from mlplab.cli.interrupt import fit_warnings_said, stop_on_interrupt
from mlplab.cli.lessons import linear_lesson
from mlplab.cli.options import (
    device_option,
    fitting_options,
    json_option,
    network_options,
    plot_option,
    run_options,
    train_engine_option,
)
from mlplab.cli.outputs import check_outputs
from mlplab.cli.words import counted
from mlplab.datasets import DATASETS
from mlplab.errors import ConfigError
from mlplab.experiments.checkpointed import RunFiles
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.data import class_names, data_target, predicted_classes
from mlplab.experiments.defaults import task_defaults
from mlplab.experiments.runs import run_training, split_scores
from mlplab.io.datafiles import csv_columns
from mlplab.nn.network import MLP
from mlplab.nn.targets import correct
from mlplab.train.advice import run_title
from mlplab.train.callbacks import Callback
from mlplab.train.history import History

__all__ = ["train"]

# options that --resume may be combined with; the rest come from the checkpoint
RESUMABLE = frozenset(
    {"as_json", "quiet", "save_path", "plot_path", "checkpoint", "checkpoint_every", "record",
     "resume", "epochs"}
)  # fmt: skip
MAX_TABLE_ROWS = 16


@dataclass
class Table:
    """The rows of a small data set beside the trained network's predictions."""

    X: np.ndarray
    t: np.ndarray
    y: np.ndarray
    holdout: int | None
    classes: list[str] | None
    names: list[str]  # the input columns' names

    def __str__(self) -> str:
        width = max(5, *(len(n) for n in self.names))
        header = "  ".join(f"{n:>{width}}" for n in self.names) + "  target  prediction"
        classes = self.classes
        if classes is not None:
            header += "  class"
            target_names = predicted_classes(self.t, classes)
            predicted = predicted_classes(self.y, classes)
        rows = [header]
        for i, (x, target, pred) in enumerate(zip(self.X, self.t, self.y, strict=True)):
            cells = "  ".join(f"{v:>{width}g}" for v in x)
            targets = " ".join(f"{v:g}" for v in target)
            if classes is not None:
                targets = target_names[i]
            preds = " ".join(f"{v:.6f}" for v in pred)
            named = "" if classes is None else f"  {predicted[i]}"
            mark = "   (held out)" if i == self.holdout else ""
            rows.append(f"{cells}  {targets:>6}  {preds:>10}{named}{mark}")
        return "\n".join(rows)


def _input_names(config: TrainConfig, n_in: int) -> list[str]:
    """The table's input columns: the data file's names, or x1, x2, ... (and the seed's bias)."""
    if config.data and Path(config.data).suffix.lower() == ".csv":
        target = data_target(config)
        names = [name for name in csv_columns(config.data) if name != target]
        if len(names) == n_in:
            return names
    names = [f"x{i + 1}" for i in range(n_in)]
    if not config.data and DATASETS[config.dataset].gate:  # the seed's constant-1 input
        names[-1] = "bias"
    return names


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
@click.option(
    "--quiet", "-q", is_flag=True, help="Print the final line only (errors go to stderr)."
)
@run_options
def train(
    holdout: int | None,
    plot_path: str | None,
    save_path: str | None,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Train a network; with no options, the seed's 3-4-1 sigmoid network on XOR.

    Ctrl-C stops at the end of the epoch running and keeps what the options asked for.
    """
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
    config, notes = _settled(config, files)
    header = Header(config, notes, show=not (as_json or quiet or files.resume))
    with stop_on_interrupt() as stopper, fit_warnings_said(_say):
        callbacks = [stopper, header]
        if files.active:
            config, holdout, net, history, X, t, seconds = files.train(
                config, holdout=holdout, quiet=quiet, say=None if as_json else _say,
                epochs=more_epochs, callbacks=callbacks,
            )  # fmt: skip
        else:
            net, history, X, t, seconds = run_training(
                config, holdout=holdout, quiet=quiet, callbacks=callbacks
            )
    y = net.predict(X)
    classes = class_names(net, "the trained model")
    scores = split_scores(net, X, t, holdout=holdout)
    final = _final_loss(config, history, scores)
    if stopper.requested:
        _say(f"interrupted at epoch {history.epochs} of {config.epochs}: loss so far {final:.6g}")
    outputs = Outputs(net, history, config, final, save_path, plot_path)
    if as_json:
        outputs.write()
        doc = _document(config, history, X, t, y, holdout, seconds, scores, classes)
        click.echo(json.dumps({**doc, "final_loss": final, "notes": notes,
                               "interrupted": stopper.requested}))  # fmt: skip
    elif quiet:
        click.echo(_final_line(config, history, scores, final, seconds))
        outputs.write()
    else:
        table = Table(X, t, y, holdout, classes, _input_names(config, X.shape[1]))
        _report(config, net, history, table, seconds, scores, final, header)
        outputs.write()
        outputs.say(click.echo)
    if stopper.requested:
        _say_kept(files, save_path, plot_path, quiet or as_json)
        raise click.exceptions.Exit(130)


class Header(Callback):
    """Prints the run's title and notes when training begins (``show``), once."""

    def __init__(self, config: TrainConfig, notes: list[str], *, show: bool) -> None:
        self.config, self.notes, self.show = config, notes, show
        self.printed = False

    def on_train_begin(self, net: MLP) -> None:
        if self.show and not self.printed:
            self.echo(net)

    def echo(self, net: MLP) -> None:
        click.echo(_title(self.config, net))
        for note in self.notes:
            click.echo(note)
        click.echo()
        self.printed = True


@dataclass
class Outputs:
    """The files the options asked for: the model (``--save``) and the loss plot (``--plot``)."""

    net: MLP
    history: History
    config: TrainConfig
    final_loss: float
    save_path: str | None
    plot_path: str | None

    def write(self) -> None:
        """Write them (after the results are shown: a failed write loses none)."""
        if self.save_path:
            metadata = {"cli": self.config.to_dict(), "final_loss": self.final_loss}
            self.net.save(self.save_path, metadata=metadata)
        if self.plot_path:
            from mlplab.plot import plot_loss

            plot_loss(self.history, self.plot_path, title=_title(self.config, self.net))

    def say(self, echo: Callable[[str], None]) -> None:
        for path, what in ((self.save_path, "model"), (self.plot_path, "loss plot")):
            if path:
                echo(f"{what} written to {path}")


def _say_kept(files: RunFiles, save_path: str | None, plot_path: str | None, say: bool) -> None:
    """After Ctrl-C: one line on stderr for each file kept (the model and plot said already
    unless ``say``)."""
    kept = [(save_path, "model (the weights reached)"), (plot_path, "loss plot")] if say else []
    kept.append((files.record, "run record (to the epoch reached)"))
    for path, what in kept:
        if path:
            _say(f"{what} written to {path}")
    checkpoint = files.checkpoint or files.resume
    if checkpoint:
        _say(f"checkpoint {checkpoint} holds the epoch reached; continue with "
             f"--resume {checkpoint}")  # fmt: skip


def _settled(config: TrainConfig, files: RunFiles) -> tuple[TrainConfig, list[str]]:
    """The run's settings with the task's defaults, and the notes saying what was chosen (a
    resumed run's settings are its checkpoint's)."""
    if files.resume:
        return config, []
    given = _given()
    config, chosen = task_defaults(config, given, checkpointing=files.active)
    notes = [chosen] if chosen else []  # a chosen early stopping names what it watches
    notes += _notes(config) if "early_stopping" in given else []
    return config, notes + _target_note(config)


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


def _target_note(config: TrainConfig) -> list[str]:
    """Which column is the target when a CSV file's was not named."""
    if config.data and not config.target and Path(config.data).suffix.lower() == ".csv":
        return [f"target: {data_target(config)}, the last column of {config.data} "
                "(--target COLUMN picks another)"]  # fmt: skip
    return []


def _final_loss(config: TrainConfig, history: History, scores: dict[str, Any]) -> float:
    """The last epoch's loss; with no epochs run, the loss of the starting weights."""
    if history.epochs or "train" not in scores:
        return history.final_loss
    train = scores["train"]  # a mean per example: back to the run's reduction
    return train["loss"] * (train["rows"] if config.reduction == "sum" else 1)


def _final_line(
    config: TrainConfig, history: History, scores: dict[str, Any], final: float, seconds: float
) -> str:
    stopped = ""
    if history.epochs < config.epochs:
        stopped = f" (stopped after {counted(history.epochs, 'epoch')})"
    rows = scores["train"]["rows"] if "train" in scores else 0
    unit = "summed" if config.reduction == "sum" else "mean"
    return (
        f"final loss {final:.6g} ({unit} over the {counted(rows, 'training example')})   "
        f"time {seconds:.2f} s{stopped}"
    )


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
    table: Table,
    seconds: float,
    scores: dict[str, Any],
    final: float,
    header: Header,
) -> None:
    if not header.printed:  # a resumed run's title comes from its checkpoint
        header.echo(net)
    if len(table.X) <= MAX_TABLE_ROWS:
        click.echo(str(table))
    if len(table.X) > MAX_TABLE_ROWS or set(scores) - {"train"}:
        for name, score in scores.items():
            click.echo(
                f"{name:>10}: {counted(score['rows'], 'example')}, mean loss per example "
                f"{score['loss']:.4g}, accuracy {score['accuracy']:.1%}"
            )
    click.echo()
    click.echo(_final_line(config, history, scores, final, seconds))
    holdout, y, t = table.holdout, table.y, table.t
    if holdout is not None:
        right = bool(correct(y[holdout], t[holdout]))
        verdict = "right" if right else "wrong"
        click.echo(
            f"held-out row {holdout}: predicted {y[holdout, 0]:.4f} for target "
            f"{t[holdout, 0]:g}, on the {verdict} side of 0.5"
        )
    events, lessons = linear_lesson(config, history.events)
    if events:
        click.echo("seen during training:")
        for event in events:
            click.echo(f"  {event}")
    for lesson in lessons:
        click.echo(lesson)


def _title(config: TrainConfig, net: MLP) -> str:
    return run_title(
        net, epochs=config.epochs, lr=config.lr, optimizer=config.optimizer,
        batch_size=config.batch_size, data=config.data or config.dataset,
    )  # fmt: skip


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
