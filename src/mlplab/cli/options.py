"""Options shared by the commands that build and train a network, and their typed config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import click

from mlplab.datasets import DATASETS
from mlplab.nn.activations import hidden_activation_names, output_activation_names
from mlplab.nn.init import INITS
from mlplab.nn.losses import LOSSES, REDUCTIONS
from mlplab.train.optimizers import OPTIMIZERS
from mlplab.train.schedules import SCHEDULES

__all__ = [
    "PositiveIntList",
    "TrainConfig",
    "data_options",
    "fitting_options",
    "json_option",
    "network_options",
    "optimizer_options",
    "quiet_option",
    "split_options",
]


class PositiveIntList(click.ParamType):
    """A comma list of positive integers, such as ``8,8``."""

    name = "N[,N...]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, tuple):
            return value
        try:
            sizes = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            sizes = ()
        if not sizes or any(s < 1 for s in sizes):
            self.fail(f"expected positive integers separated by commas, got {value!r}", param, ctx)
        return sizes


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run from the command line."""

    dataset: str = "xor"
    hidden: tuple[int, ...] = (4,)
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    loss: str = "squared_error"
    reduction: str = "sum"
    bias: bool | None = None  # None: bias vectors unless the data carry the seed's 1-column
    init: str = "seed"
    seed: int = 0
    epochs: int = 60000
    lr: float = 1.0
    dtype: str = "float64"
    # data and fitting beyond the seed's full batch (fitting_options; all off by default)
    data: str | None = None
    target: str | None = None
    points: int = 200
    noise: float = 0.0
    validation: float = 0.0
    test: float = 0.0
    standardize: bool = False
    batch_size: int | None = None
    optimizer: str = "sgd"
    schedule: str = "constant"
    weight_decay: float = 0.0
    early_stopping: int | None = None

    def optimizer_kwargs(self) -> dict[str, Any]:
        """``MLP.fit``'s mini-batch, optimizer, schedule and weight-decay arguments."""
        return {
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            "schedule": self.schedule,
            "weight_decay": self.weight_decay,
        }

    def network_kwargs(self) -> dict[str, Any]:
        return {
            "activation": self.activation,
            "output_activation": self.output_activation,
            "loss": self.loss,
            "reduction": self.reduction,
            "bias": self.uses_bias,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype,
        }

    @property
    def uses_bias(self) -> bool:
        if self.bias is not None:
            return self.bias
        return bool(self.data) or not DATASETS[self.dataset].gate

    def sizes(self, n_inputs: int, n_outputs: int) -> list[int]:
        return [n_inputs, *self.hidden, n_outputs]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> TrainConfig:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in options.items() if k in names})


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")


def plot_option(help: str) -> Callable:
    """``--plot FILE.png`` (passed as ``plot_path``), saying what the picture shows."""
    return click.option(
        "--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
        metavar="FILE.png", help=help,
    )  # fmt: skip


def _choice(names: list[str]) -> click.Choice:
    return click.Choice(names, case_sensitive=False)


def network_options(command: Callable) -> Callable:
    """Add the network and training options (defaults: the seed's run) to a click command."""
    defaults = TrainConfig()
    decorators = [
        click.option(
            "--dataset",
            type=_choice(list(DATASETS)),
            default=defaults.dataset,
            show_default=True,
            help="Data set to learn.",
        ),
        click.option(
            "--hidden",
            type=PositiveIntList(),
            default="4",
            show_default=True,
            help="Hidden layer sizes, comma separated: 8,8 is two layers.",
        ),
        click.option(
            "--activation",
            type=_choice(hidden_activation_names()),
            default=defaults.activation,
            show_default=True,
            help="Hidden layers' activation.",
        ),
        click.option(
            "--output-activation",
            type=_choice(output_activation_names()),
            default=defaults.output_activation,
            show_default=True,
        ),
        click.option(
            "--loss", type=_choice(list(LOSSES)), default=defaults.loss, show_default=True
        ),
        click.option(
            "--reduction",
            type=_choice(list(REDUCTIONS)),
            default=defaults.reduction,
            show_default=True,
            help="Sum the loss over examples (the seed) or average.",
        ),
        click.option(
            "--bias/--no-bias",
            default=defaults.bias,
            show_default=True,
            help="Bias vectors per layer (the seed uses a constant-1 input instead).",
        ),
        click.option(
            "--init",
            type=_choice(list(INITS)),
            default=defaults.init,
            show_default=True,
            help="'seed' replays the 11 lines after np.random.seed.",
        ),
        click.option(
            "--seed",
            type=click.IntRange(0, 2**32 - 1),
            default=defaults.seed,
            show_default=True,
            help="Random seed of the initial weights.",
        ),
        click.option(
            "--epochs",
            type=click.IntRange(min=0),
            default=defaults.epochs,
            show_default=True,
            help="Full-batch passes over the data.",
        ),
        click.option(
            "--lr",
            type=click.FloatRange(min=0, min_open=True),
            default=defaults.lr,
            show_default=True,
            help="Learning rate (step size).",
        ),
        click.option(
            "--dtype",
            type=click.Choice(["float64", "float32"]),
            default=defaults.dtype,
            show_default=True,
        ),
    ]
    return _decorate(command, decorators)


def _decorate(command: Callable, decorators: list[Callable]) -> Callable:
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def data_options(command: Callable) -> Callable:
    """Add the options choosing the data (a user's file, or a 2-D set's size and noise)."""
    return _decorate(
        command,
        [
            click.option(
                "--data",
                type=click.Path(dir_okay=False),
                default=None,
                metavar="FILE.csv|FILE.npz",
                help="Train on your own data instead of --dataset.",
            ),
            click.option(
                "--target",
                default=None,
                metavar="COLUMN",
                help="The target column of --data (for .npz: the array name, default y).",
            ),
            click.option(
                "--points",
                type=click.IntRange(min=2),
                default=200,
                show_default=True,
                help="Points drawn for a 2-D --dataset.",
            ),
            click.option(
                "--noise",
                type=click.FloatRange(0, 1),
                default=0.0,
                show_default=True,
                help="Noise of a 2-D --dataset.",
            ),
            click.option(
                "--standardize",
                is_flag=True,
                help="Scale inputs to mean 0, sd 1 on the training rows (the model keeps it).",
            ),
        ],
    )


def split_options(command: Callable) -> Callable:
    """Add held-out shares and early stopping on the validation loss."""
    share = click.FloatRange(0, 1, max_open=True)
    return _decorate(
        command,
        [
            click.option(
                "--validation",
                type=share,
                default=0.0,
                show_default=True,
                help="Share of rows held out for validation (seeded by --seed).",
            ),
            click.option(
                "--test",
                type=share,
                default=0.0,
                show_default=True,
                help="Share of rows held out for the final test.",
            ),
            click.option(
                "--early-stopping",
                type=click.IntRange(min=1),
                default=None,
                metavar="PATIENCE",
                help="Stop after this many epochs without a better validation loss.",
            ),
        ],
    )


def optimizer_options(command: Callable) -> Callable:
    """Add mini-batches, the optimizer, its learning-rate schedule and L2 weight decay."""
    return _decorate(
        command,
        [
            click.option(
                "--batch-size",
                type=click.IntRange(min=1),
                default=None,
                help="Mini-batch size, reshuffled each epoch [default: full batch].",
            ),
            click.option(
                "--optimizer", type=_choice(list(OPTIMIZERS)), default="sgd", show_default=True
            ),
            click.option(
                "--schedule",
                type=_choice(list(SCHEDULES)),
                default="constant",
                show_default=True,
                help="Learning-rate schedule.",
            ),
            click.option(
                "--weight-decay",
                type=click.FloatRange(min=0),
                default=0.0,
                show_default=True,
                help="L2 penalty alpha/2 * sum(W^2).",
            ),
        ],
    )


def fitting_options(command: Callable) -> Callable:
    """Add the options for users' data, splits, mini-batches and optimizers to a command."""
    return data_options(split_options(optimizer_options(command)))
