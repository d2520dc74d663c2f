"""An ensemble on a Dask cluster: one large stack split into blocks of consecutive seeds.

``run_ensemble_dask(config, nets, address)`` gives what ``run_ensemble(config, nets)`` gives
on one machine, network for network: the stack of seeds ``seed .. seed + nets - 1`` is cut
into blocks (``split_blocks``), block ``b`` of networks ``first .. first + k - 1`` trains on
a worker as its own stack ``MLP(..., seed=seed + first, stack=k)``, with the mini-batch
order of the whole (``fit``'s ``seed`` stays ``config.seed``) and the engine the whole stack
would have taken (``choose_engine`` for all ``nets``, on the client). A worker keeps the
losses of the epochs the whole stack's ``StackRecord`` would keep (``record_every``), so
the merged ``History`` has the same rows, and the client merges the blocks in seed order
(``merge_outcomes``). The data are read on the client and sent with each block, so a
worker needs mlplab installed but no data file.

Blocks are as equal as can be (sizes within one network of each other) so the workers
finish together and a compiled engine meets at most two stack shapes, and never below
``narrow.MIN_STACK`` networks, where NumPy's stack layout, and with it the last bits of
the sums, would differ from the whole stack's.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mlplab.errors import ConfigError, MlplabError, TrainingDivergedError
from mlplab.experiments.cluster import dask_results
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import ensemble_data, train_configured
from mlplab.experiments.limits import check_network, stack_bytes
from mlplab.experiments.stacks import StackOutcome, check_memory, memory_limit
from mlplab.nn.narrow import MIN_STACK
from mlplab.nn.network import MLP
from mlplab.train.history import History
from mlplab.train.stack_record import MAX_LOSS_VALUES, kept_every

Array = np.ndarray

__all__ = [
    "DEFAULT_BLOCK_NETS",
    "BlocksLost",
    "LossKeeper",
    "check_blocks",
    "describe_block",
    "merge_outcomes",
    "record_every",
    "run_ensemble_dask",
    "split_blocks",
    "train_block",
]

# networks per block unless told: the stack size the compiled engine trains fastest per
# network here (a stack of 10000 is slower per network: its work arrays leave the cache)
DEFAULT_BLOCK_NETS = 1000
Block = tuple[int, int]  # (first, count): networks first .. first + count - 1 of the whole


def split_blocks(nets: int, block_nets: int = DEFAULT_BLOCK_NETS) -> list[Block]:
    """``nets`` networks as consecutive blocks of at most about ``block_nets`` each.

    ``ceil(nets / block_nets)`` blocks, fewer if a block would hold under ``MIN_STACK``
    networks; their sizes differ by at most one (the larger first).
    """
    if nets < 1 or block_nets < 1:
        raise ConfigError(f"cannot split {nets} networks into blocks of {block_nets}")
    count = max(1, min(math.ceil(nets / block_nets), nets // MIN_STACK))
    size, extra = divmod(nets, count)
    blocks, first = [], 0
    for b in range(count):
        k = size + (b < extra)
        blocks.append((first, k))
        first += k
    return blocks


def record_every(nets: int, epochs: int, max_values: int = MAX_LOSS_VALUES) -> int:
    """The interval of the epochs a stack of ``nets`` keeps in its loss record (``StackRecord``'s
    ``every``: every epoch while ``epochs x nets`` fits in ``max_values``)."""
    return kept_every(nets, epochs, max_values)


class LossKeeper:
    """A ``fit`` callback keeping each network's loss at epochs ``0, every, 2 * every, ...``."""

    weights_every: int | None = None

    def __init__(self, every: int) -> None:
        self.every = every
        self.rows: list[Array] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if epoch % self.every == 0:
            self.rows.append(np.array(logs["loss"], dtype=np.float64))


def train_block(
    config: TrainConfig, X: Array, t: Array, first: int, nets: int, every: int
) -> StackOutcome:
    """Networks ``first .. first + nets - 1`` of the ensemble, trained as one stack (on a worker).

    Its history holds the losses at epochs ``0, every, ...`` only (the whole stack's
    record) and no per-epoch accuracy. A block whose every network diverged is returned,
    not raised: the whole stack trains on while another block's networks do.
    """
    sizes = config.sizes(X.shape[1], t.shape[1])
    net = MLP(sizes, **{**config.network_kwargs(), "seed": config.seed + first}, stack=nets)
    keeper = LossKeeper(every)
    try:
        outcome = train_configured(config, net, X, t, [keeper])  # the whole's batch order
    except TrainingDivergedError as e:
        return _all_diverged(e, nets, keeper, config.epochs)
    history = outcome.history
    rows = np.array(keeper.rows).reshape(-1, nets)
    extra = {key: history.extra[key] for key in ("diverged_at", "compile_seconds")
             if key in history.extra}  # fmt: skip
    extra["loss_epochs"] = np.arange(len(rows)) * every
    outcome.history = History(rows, history.epochs, history.seconds, extra)
    return outcome


def _all_diverged(
    e: TrainingDivergedError, nets: int, keeper: LossKeeper, epochs: int
) -> StackOutcome:
    """The outcome of a block whose networks all diverged: losses NaN from then on."""
    kept = e.history  # type: ignore[attr-defined]
    rows = np.full((len(range(0, epochs, keeper.every)), nets), np.nan)
    done = np.array(keeper.rows).reshape(-1, nets)[: len(rows)]
    rows[: len(done)] = done
    extra = {"diverged_at": kept.extra["diverged_at"], "loss_epochs": np.arange(len(rows))
             * keeper.every, "compile_seconds": kept.extra.get("compile_seconds", 0.0)}  # fmt: skip
    return StackOutcome(
        solved=np.zeros(nets, dtype=bool),
        epochs_to_solve=np.full(nets, -1, dtype=np.int64),
        final_loss=np.full(nets, np.nan),
        diverged=np.ones(nets, dtype=bool),
        seconds=kept.seconds,
        history=History(rows, epochs, kept.seconds, extra),
        watch_every=0,  # the watch's interval: the other blocks say it
    )


def merge_outcomes(outcomes: list[StackOutcome], wall_seconds: float) -> StackOutcome:
    """The blocks' outcomes, in seed order, as one stack's; ``seconds`` sums the blocks'.

    ``history.extra`` also holds ``blocks`` and ``wall_seconds`` (the client's clock).
    Every block diverged entirely: ``TrainingDivergedError``, as for one stack.
    """
    histories = [o.history for o in outcomes]
    diverged_at = np.concatenate([h.extra["diverged_at"] for h in histories])
    if all(o.diverged.all() for o in outcomes):
        raise TrainingDivergedError(
            f"the loss of every network in the stack became non-finite (the last at epoch "
            f"{int(diverged_at.max())}); training stopped. Try a smaller learning rate.",
            epoch=int(diverged_at.max()),
            history=None,
        )
    seconds = float(sum(o.seconds for o in outcomes))
    extra = {
        "loss_epochs": histories[0].extra["loss_epochs"],
        "diverged_at": diverged_at,
        "compile_seconds": float(sum(h.extra.get("compile_seconds", 0.0) for h in histories)),
        "blocks": len(outcomes),
        "wall_seconds": wall_seconds,
    }
    loss = np.concatenate([h.loss for h in histories], axis=1)

    def cat(name: str) -> Array:
        return np.concatenate([getattr(o, name) for o in outcomes])

    return StackOutcome(
        solved=cat("solved"),
        epochs_to_solve=cat("epochs_to_solve"),
        final_loss=cat("final_loss"),
        diverged=cat("diverged"),
        seconds=seconds,
        history=History(loss, histories[0].epochs, seconds, extra),
        watch_every=max(o.watch_every for o in outcomes),
    )


class BlocksLost(MlplabError):
    """Some blocks did not finish on the cluster (after a retry); nothing is merged."""


def describe_block(config: TrainConfig, block: Block) -> str:
    """A block's networks by their seeds."""
    first, k = block
    return f"seeds {config.seed + first}..{config.seed + first + k - 1}"


def check_blocks(
    config: TrainConfig, X: Array, t: Array, blocks: list[Block], max_memory: float | None
) -> None:
    """Refuse clashing settings, and a block (what one worker holds) too large for memory."""
    sizes = config.sizes(X.shape[1], t.shape[1])
    check_network(config, sizes)
    MLP(sizes, **config.network_kwargs())  # clashing settings raise here, not on the workers
    largest = max(k for _, k in blocks)
    limit = memory_limit() if max_memory is None else max_memory * 2**30
    try:
        check_memory(stack_bytes(config, sizes, len(X), largest), limit, largest)
    except ConfigError as e:
        raise ConfigError(f"{e}; with --dask, per block: try a smaller --block-nets") from None


def run_ensemble_dask(
    config: TrainConfig,
    nets: int,
    address: str,
    *,
    timeout: float = 10.0,
    block_nets: int = DEFAULT_BLOCK_NETS,
    max_memory: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> StackOutcome:
    """``run_ensemble(config, nets)``'s outcome, trained in blocks on the Dask cluster at
    ``address``. ``max_memory`` (GiB) bounds one block; ``progress(k)`` is called as each
    block of ``k`` networks finishes. Blocks lost after a retry raise ``BlocksLost``."""
    X, t = ensemble_data(config)
    blocks = split_blocks(nets, block_nets)
    check_blocks(config, X, t, blocks, max_memory)
    engine = config.engine_kwargs(nets)["engine"]  # what one machine would use
    block_config = dataclasses.replace(config, engine=engine)
    every = record_every(nets, config.epochs)
    cells = [(block_config, X, t, first, k, every) for first, k in blocks]
    outcomes: list[StackOutcome | None] = [None] * len(blocks)
    lost: list[tuple[int, str]] = []
    start = time.perf_counter()
    for i, outcome in dask_results(train_block, cells, address, timeout, lost):
        outcomes[i] = outcome
        if progress is not None:
            progress(blocks[i][1])
    if lost:
        raise BlocksLost(_lost_message(config, blocks, lost))
    return merge_outcomes(outcomes, time.perf_counter() - start)  # type: ignore[arg-type]


def _lost_message(config: TrainConfig, blocks: list[Block], lost: list[tuple[int, str]]) -> str:
    lost = sorted(lost)
    named = [f"block {i + 1} ({describe_block(config, blocks[i])}): {why}" for i, why in lost[:5]]
    more = f"; and {len(lost) - 5} more" if len(lost) > 5 else ""
    return (
        f"{len(lost)} of {len(blocks)} blocks lost: {'; '.join(named)}{more}; nothing was "
        f"merged (a block's result depends only on its seeds: run again)"
    )
