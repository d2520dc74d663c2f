"""``mlplab train``: the seed's XOR run by default; every exercise is an option away."""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from mlplab.cli.options import (
    fitting_options,
    json_option,
    network_options,
    plot_option,
    quiet_option,
    run_options,
)
from mlplab.datasets import DATASETS
from mlplab.errors import ConfigError
from mlplab.experiments.checkpointed import RunFiles, RunResult
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.data import class_names, predicted_classes
from mlplab.experiments.runs import run_training, split_scores
from mlplab.nn.targets import correct
from mlplab.train.history import History

__all__ = ["train"]

# options that --resume may be combined with; the rest come from the checkpoint
RESUMABLE = frozenset(
    {"as_json", "quiet", "save_path", "plot_path", "checkpoint", "checkpoint_every", "record",
     "resume"}
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
    config, holdout, net, history, X, t, seconds = _run(options, holdout, quiet)
    y = net.predict(X)
    classes = class_names(net, "the trained model")
    scores = split_scores(net, X, t) if len(X) > MAX_TABLE_ROWS else {}
    if save_path:
        metadata = {"cli": config.to_dict(), "final_loss": history.final_loss}
        net.save(save_path, metadata=metadata)
    if plot_path:
        from mlplab.plot import plot_loss

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
    _report(config, net.sizes, holdout, history, (X, t, y), classes, scores, seconds)
    for path, what in ((save_path, "model"), (plot_path, "loss plot")):
        if path:
            click.echo(f"{what} written to {path}")


def _run(options: dict[str, Any], holdout: int | None, quiet: bool) -> RunResult:
    """The configured run, with its files (--checkpoint, --resume, --record) if any."""
    config = TrainConfig.from_options(options)
    files = RunFiles.from_options(options)
    files.check()
    if files.resume:
        _refuse_settings_with_resume()
    if files.active:
        return files.train(config, holdout=holdout, quiet=quiet)
    net, history, X, t, seconds = run_training(config, holdout=holdout, quiet=quiet)
    return config, holdout, net, history, X, t, seconds


def _report(
    config: TrainConfig,
    sizes: tuple[int, ...],
    holdout: int | None,
    history: History,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    classes: list[str] | None,
    scores: dict[str, dict[str, float]],
    seconds: float,
) -> None:
    """What the run gave, as text: the rows (or each part's scores), the loss, the events."""
    X, t, y = rows
    click.echo(_title(config, sizes))
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


def _refuse_settings_with_resume() -> None:
    """Refuse settings given on the command line with --resume (the checkpoint has its own)."""
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
            f"drop {flags}"
        )
