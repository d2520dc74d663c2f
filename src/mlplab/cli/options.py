"""Options shared by the commands that build and train a network.

Every default is read from ``TrainConfig``'s fields (``mlplab.experiments.config``), the
run's one schema; ``TrainConfig.from_options`` turns a command's options back into one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import click

from mlplab.datasets import DATASETS
from mlplab.engines import DEVICES, ENGINE_CHOICES
from mlplab.errors import ConfigError
from mlplab.experiments.checkpointed import DEFAULT_EVERY
from mlplab.experiments.config import DEFAULTS
from mlplab.nn.activations import hidden_activation_names, output_activation_names
from mlplab.nn.init import INITS
from mlplab.nn.losses import LOSSES, REDUCTIONS
from mlplab.train.optimizers import OPTIMIZERS
from mlplab.train.schedules import SCHEDULES

COMMANDLINE = click.core.ParameterSource.COMMANDLINE

__all__ = [
    "FiniteFloatRange",
    "PositiveIntList",
    "dask_options",
    "data_options",
    "device_option",
    "engine_option",
    "fitting_options",
    "json_option",
    "max_memory_option",
    "network_options",
    "optimizer_options",
    "playground_engine_option",
    "plot_option",
    "quiet_option",
    "run_options",
    "split_options",
    "train_engine_option",
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
            hint = ""
            if all(part.strip().isdigit() for part in str(value).split("x")) and "x" in str(value):
                hint = f" (layers are separated by commas here: try {str(value).replace('x', ',')})"
            self.fail(
                f"expected positive integers separated by commas, got {value!r}{hint}", param, ctx
            )
        return sizes


class FiniteFloatRange(click.FloatRange):
    """A ``FloatRange`` that also refuses NaN and infinity (which compare as in range)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, got {value!r}", param, ctx)
        return number


MAX_DASK_TIMEOUT = 86400.0  # seconds: a day; longer is a hang, not a timeout


engine_option = click.option(
    "--engine",
    type=click.Choice(ENGINE_CHOICES),
    default="auto",
    show_default=True,
    help="Where the epochs run: numpy; jax, compiled (pip install 'mlplab[jax]'); auto: jax "
    "from 1e6 network-epochs when installed.",
)


train_engine_option = click.option(
    "--engine",
    type=click.Choice(("numpy", "jax")),
    default=DEFAULTS.engine,
    show_default=True,
    help="Where the epochs run: numpy (the seed's arithmetic, bit for bit) or jax, compiled "
    "(pip install 'mlplab[jax]'; the same results to rounding, diagnostics of the loss only).",
)


device_option = click.option(
    "--device",
    type=click.Choice(DEVICES),
    default=None,
    help="Where --engine jax runs: cpu or gpu (needs pip install 'jax[cuda12]'). "
    "Default: JAX's choice, a GPU when it finds one.",
)


playground_engine_option = click.option(
    "--engine",
    type=click.Choice(ENGINE_CHOICES),
    default="auto",
    show_default=True,
    help="Where every tab trains: numpy; jax, compiled (pip install 'mlplab[jax]'); auto: jax "
    "when installed.",
)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")


def dask_options(help: str) -> Callable:
    """``--dask tcp://HOST:PORT`` (passed as ``dask_address``, saying what runs there) and
    ``--dask-timeout``."""
    address = click.option(
        "--dask", "dask_address", default=None, metavar="tcp://HOST:PORT", help=help
    )
    timeout = click.option(
        "--dask-timeout", type=FiniteFloatRange(min=0, min_open=True, max=MAX_DASK_TIMEOUT),
        default=10.0,
        show_default=True, help="Seconds to wait for the scheduler.",
    )  # fmt: skip
    return lambda command: address(timeout(command))


def plot_option(help: str) -> Callable:
    """``--plot FILE.png`` (passed as ``plot_path``), saying what the picture shows."""
    return click.option(
        "--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
        metavar="FILE.png", help=help,
    )  # fmt: skip


def _choice(names: list[str]) -> click.Choice:
    return click.Choice(names, case_sensitive=False)


def network_options(command: Callable, *, epochs: bool = True) -> Callable:
    """Add the network and training options (defaults: the seed's run) to a click command
    (``epochs=False``: all but ``--epochs``)."""
    steps = [o for o in _initial_weights_and_steps() if epochs or o is not _EPOCHS]
    return _decorate(command, [*_architecture(), *steps])


def _architecture() -> list[Callable]:
    """The data set, layers, activations and loss."""
    return [
        click.option(
            "--dataset",
            type=_choice(list(DATASETS)),
            default=DEFAULTS.dataset,
            show_default=True,
            help="Data set to learn.",
        ),
        click.option(
            "--hidden",
            type=PositiveIntList(),
            default=",".join(map(str, DEFAULTS.hidden)),
            show_default=True,
            help="Hidden layer sizes, comma separated: 8,8 is two layers.",
        ),
        click.option(
            "--activation",
            type=_choice(hidden_activation_names()),
            default=DEFAULTS.activation,
            show_default=True,
            help="Hidden layers' activation.",
        ),
        click.option(
            "--output-activation",
            type=_choice(output_activation_names()),
            default=DEFAULTS.output_activation,
            show_default=True,
        ),
        click.option(
            "--loss", type=_choice(list(LOSSES)), default=DEFAULTS.loss, show_default=True
        ),
        click.option(
            "--reduction",
            type=_choice(list(REDUCTIONS)),
            default=DEFAULTS.reduction,
            show_default=True,
            help="Sum the loss over examples (the seed) or average.",
        ),
        click.option(
            "--bias/--no-bias",
            default=DEFAULTS.bias,
            show_default=True,
            help="Bias vectors per layer (the seed uses a constant-1 input instead).",
        ),
    ]


_EPOCHS = click.option(
    "--epochs",
    type=click.IntRange(min=0),
    default=DEFAULTS.epochs,
    show_default=True,
    help="Passes over the data (train's default: the seed's 60000 for a gate, else "
    "a budget with early stopping, said when it starts).",
)


def _initial_weights_and_steps() -> list[Callable]:
    """The initial weights, their seed, the epochs, the step size and the dtype."""
    return [
        click.option(
            "--init",
            type=_choice(list(INITS)),
            default=DEFAULTS.init,
            show_default=True,
            help="'seed' replays the 11 lines after np.random.seed.",
        ),
        click.option(
            "--seed",
            type=click.IntRange(0, 2**32 - 1),
            default=DEFAULTS.seed,
            show_default=True,
            help="Random seed of the initial weights.",
        ),
        _EPOCHS,
        click.option(
            "--lr",
            type=click.FloatRange(min=0, min_open=True),
            default=DEFAULTS.lr,
            show_default=True,
            help="Learning rate (step size).",
        ),
        click.option(
            "--dtype",
            type=click.Choice(["float64", "float32"]),
            default=DEFAULTS.dtype,
            show_default=True,
        ),
    ]


def _decorate(command: Callable, decorators: list[Callable]) -> Callable:
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


# options given that the data source makes meaningless: refused, not ignored
ONLY_WITHOUT_DATA = ("dataset", "points", "noise")
ONLY_WITH_DATA = ("target",)


def _refuse_unused_data_options(command: Callable) -> Callable:
    """``command``, refusing first the data options that do not apply together: a data
    set's (``--dataset``, ``--points``, ``--noise``) with ``--data``, ``--target`` without."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        given = {n for n in ctx.params if ctx.get_parameter_source(n) == COMMANDLINE}
        unused = [n for n in ONLY_WITHOUT_DATA if n in given] if kwargs.get("data") else [
            n for n in ONLY_WITH_DATA if n in given
        ]
        if unused:
            flags, one = ", ".join("--" + n for n in unused), len(unused) == 1
            why = (f"{'does' if one else 'do'} not apply to --data FILE" if kwargs.get("data")
                   else f"{'applies' if one else 'apply'} only to --data FILE")  # fmt: skip
            raise ConfigError(f"{flags} {why}; drop {'it' if one else 'them'}")
        return command(*args, **kwargs)

    return checked


def data_options(command: Callable) -> Callable:
    """Add the options choosing the data (a user's file, or a 2-D set's size and noise),
    refusing the ones that do not apply together (``_refuse_unused_data_options``)."""
    return _decorate(
        _refuse_unused_data_options(command),
        [
            click.option(
                "--data",
                type=click.Path(dir_okay=False),
                default=DEFAULTS.data,
                metavar="FILE.csv|FILE.npz",
                help="Train on your own data instead of --dataset.",
            ),
            click.option(
                "--target",
                default=DEFAULTS.target,
                metavar="COLUMN",
                help="The target column of --data (for .npz: the array name, default y).",
            ),
            click.option(
                "--points",
                type=click.IntRange(min=2),
                default=DEFAULTS.points,
                show_default=True,
                help="Points drawn for a 2-D --dataset.",
            ),
            click.option(
                "--noise",
                type=click.FloatRange(0, 1),
                default=DEFAULTS.noise,
                show_default=True,
                help="Noise of a 2-D --dataset.",
            ),
            click.option(
                "--standardize/--no-standardize",
                default=DEFAULTS.standardize,
                help="Scale inputs to mean 0, sd 1 on the training rows (the model keeps it; "
                "train's default for a --data file).",
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
                default=DEFAULTS.validation,
                show_default=True,
                help="Share of rows held out for validation (seeded by --seed).",
            ),
            click.option(
                "--test",
                type=share,
                default=DEFAULTS.test,
                show_default=True,
                help="Share of rows held out for the final test.",
            ),
            click.option(
                "--early-stopping",
                type=click.IntRange(min=1),
                default=DEFAULTS.early_stopping,
                metavar="PATIENCE",
                help="Stop after this many epochs without a better validation loss (the "
                "training loss without --validation, as the run then says).",
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
                default=DEFAULTS.batch_size,
                help="Mini-batch size, reshuffled each epoch [default: full batch].",
            ),
            click.option(
                "--optimizer",
                type=_choice(list(OPTIMIZERS)),
                default=DEFAULTS.optimizer,
                show_default=True,
            ),
            click.option(
                "--schedule",
                type=_choice(list(SCHEDULES)),
                default=DEFAULTS.schedule,
                show_default=True,
                help="Learning-rate schedule.",
            ),
            click.option(
                "--weight-decay",
                type=click.FloatRange(min=0),
                default=DEFAULTS.weight_decay,
                show_default=True,
                help="L2 penalty alpha/2 * sum(W^2).",
            ),
        ],
    )


def fitting_options(command: Callable) -> Callable:
    """Add the options for users' data, splits, mini-batches and optimizers to a command."""
    return data_options(split_options(optimizer_options(command)))


def max_memory_option(command: Callable) -> Callable:
    """``--max-memory GIB``: refuse stacks estimated to need more."""
    return click.option(
        "--max-memory",
        type=FiniteFloatRange(min=0, min_open=True),
        default=None,
        metavar="GIB",
        help="Refuse stacks estimated to need more (default: half the physical memory, or less "
        "under a ulimit -v or a cgroup limit).",
    )(command)


def run_options(command: Callable) -> Callable:
    """Add ``--checkpoint``, ``--checkpoint-every``, ``--resume`` and ``--record`` to a command."""
    return _decorate(
        command,
        [
            click.option(
                "--checkpoint",
                "checkpoint",
                type=click.Path(dir_okay=False),
                default=None,
                metavar="FILE",
                help="Save weights, optimizer and RNG state, history and epoch here as "
                "training goes.",
            ),
            click.option(
                "--checkpoint-every",
                type=click.IntRange(min=1),
                default=None,
                metavar="N",
                help=f"Epochs between checkpoints (default {DEFAULT_EVERY}; the end is always "
                "saved).",
            ),
            click.option(
                "--resume",
                type=click.Path(dir_okay=False),
                default=None,
                metavar="FILE",
                help="Continue the run saved in this checkpoint (and keep checkpointing to it).",
            ),
            click.option(
                "--record",
                type=click.Path(dir_okay=False),
                default=None,
                metavar="FILE.json",
                help="Write a run record for `mlplab replay`.",
            ),
        ],
    )
