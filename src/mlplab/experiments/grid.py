"""A sweep as one program: the grid's cells x seeds trained as the fewest stacks possible.

Cells that differ only in their learning rate and hidden widths (at one depth) train as one
stack: each network keeps its cell's rate (``fit(lr=array)``) and width (``MLP(widths=)``,
the narrower networks masked) and its seed, so network ``j`` of a cell is the network
``run_cell`` trains as ``seed + j``, and each cell's figures are those of the cell-by-cell
run (to rounding). Cells that differ in anything else (activation, init, epochs, ...) form
separate groups. A group estimated too large for memory trains in blocks of networks, and
on the compiled engine on a CPU a group of more than ``CPU_BLOCK_NETS`` in equal blocks.

``train_grid`` gives the cells' rows (``run_cell``'s, in the cells' order) and one record
per network (``SweepResult.networks``: a list of dicts, ``frame()`` a pandas DataFrame);
``sweep`` makes the cells from lists of values and trains them so::

    result = sweep(TrainConfig(epochs=5000), lr=[0.5, 1, 2], hidden=[2, 4, 8], nets=[25])
    result.frame().pivot_table(index="lr", columns="hidden", values="solved")
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import DEFAULT_NETS, ensemble_data
from mlplab.experiments.limits import stack_bytes
from mlplab.experiments.stacks import StackOutcome, memory_limit, train_stack
from mlplab.experiments.sweeps import AXES, check_cells, interrupted, make_cells
from mlplab.nn.network import MLP
from mlplab.train.history import History

__all__ = [
    "CPU_BLOCK_NETS",
    "Group",
    "GroupPlan",
    "SweepResult",
    "finish_group",
    "group_cells",
    "plan_groups",
    "sweep",
    "train_grid",
]

Cell = tuple[TrainConfig, int]
# The compiled engine on a CPU trains a stack of a few hundred small networks faster per
# network than one of more (its work arrays stay in the cache), so a group of more trains
# locally as equal blocks of at most this many, one compiled program for all: 1000 XOR
# networks as 4 blocks of 250 took 2.9 s CPU against 3.2 s as one stack (compiles included;
# 5 rates x 200 seeds: 1.9 s against 2.8 s), on the project's loaded 2-core machine.
CPU_BLOCK_NETS = 256


@dataclass
class Group:
    """Cells that train as one stack: ``cells`` are indices into the sweep's cells."""

    cells: list[int]
    config: TrainConfig  # the cells' shared settings (hidden: the widest of each layer)


@dataclass
class SweepResult:
    """A sweep's rows, one per cell (as ``run_cell`` gives them), and one record per network."""

    rows: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    groups: int  # stacks trained (blocks of a group too large for memory counted apart)

    def frame(self) -> Any:
        """The per-network records as a pandas DataFrame (pandas needed)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.networks)


def sweep(config: TrainConfig | None = None, *, max_memory: float | None = None,
          progress: Callable[[int], None] | None = None, **lists: Any) -> SweepResult:  # fmt: skip
    """Every combination of the listed values (keywords of ``AXES``: ``hidden``, ``activation``,
    ``lr``, ``init``, ``epochs``, ``nets``; an axis not given keeps ``config``'s value, and
    ``nets`` ``DEFAULT_NETS``), trained as the fewest stacks (``train_grid``). ``hidden``
    takes widths (``[2, 4]``) or tuples of layer sizes (``[(8, 8)]``)."""
    base = TrainConfig() if config is None else config
    unknown = sorted(set(lists) - set(AXES))
    if unknown:
        raise ConfigError(f"sweep has no axis {unknown[0]!r}; the axes are {', '.join(AXES)}")
    defaults = {**{axis: [getattr(base, axis, None)] for axis in AXES}, "nets": [DEFAULT_NETS]}
    grid = {axis: list(lists.get(axis, defaults[axis])) for axis in AXES}
    grid["hidden"] = [(h,) if isinstance(h, int) else tuple(h) for h in grid["hidden"]]
    cells = make_cells(base, grid)
    check_cells(cells, max_memory)
    return train_grid(cells, max_memory=max_memory, progress=progress)


def _key(config: TrainConfig) -> tuple:
    """What a group shares: every setting but the rate and the hidden widths (not depth)."""
    return (*dataclasses.astuple(dataclasses.replace(config, lr=1.0, hidden=(1,))),
            len(config.hidden))  # fmt: skip


def group_cells(cells: list[Cell]) -> list[Group]:
    """The fewest groups of cells that can train as one stack each, in first-seen order."""
    found: dict[tuple, list[int]] = {}
    for i, (config, _) in enumerate(cells):
        found.setdefault(_key(config), []).append(i)
    groups = []
    for members in found.values():
        widest = tuple(int(w) for w in np.max([cells[i][0].hidden for i in members], axis=0))
        groups.append(Group(members, dataclasses.replace(cells[members[0]][0], hidden=widest)))
    return groups


def _networks(cells: list[Cell], group: Group) -> dict[str, np.ndarray]:
    """Each network of the group: its cell, seed, rate and hidden widths."""
    cell, seed, lr, widths = [], [], [], []
    for i in group.cells:
        config, nets = cells[i]
        cell += [i] * nets
        seed += range(config.seed, config.seed + nets)
        lr += [config.lr] * nets
        widths += [config.hidden] * nets
    return {
        "cell": np.array(cell),
        "seed": np.array(seed, dtype=np.int64),
        "lr": np.array(lr, dtype=np.float64),
        "widths": np.array(widths, dtype=np.int64),
    }


def _block_size(config: TrainConfig, sizes: list[int], rows: int, total: int,
                max_memory: float | None) -> int:  # fmt: skip
    """How many of the group's networks fit in memory at once (all of them, if they do)."""
    limit = memory_limit() if max_memory is None else max_memory * 2**30
    if stack_bytes(config, sizes, rows, total) <= limit:
        return total
    one = stack_bytes(config, sizes, rows, 1)
    return max(1, int(limit // one))


def _train_block(config: TrainConfig, sizes: list[int], nets: dict[str, np.ndarray],
                 X: np.ndarray, t: np.ndarray, masked: bool = True) -> StackOutcome:  # fmt: skip
    """One stack of the group's networks, each with its own seed, rate and width (``masked``:
    the group's networks are not all of the stack's width, so every block of it is masked
    and its blocks share one compiled program)."""
    kwargs = {**config.network_kwargs(), "seed": nets["seed"]}
    widths = nets["widths"] if masked else None
    net = MLP(sizes, **kwargs, stack=len(nets["seed"]), widths=widths)
    lr = nets["lr"] if len(set(nets["lr"].tolist())) > 1 else float(nets["lr"][0])
    return train_stack(
        net, X, t, epochs=config.epochs, lr=lr, seed=config.seed,
        standardize=config.standardize, **config.engine_kwargs(net.stack),
        **config.optimizer_kwargs(),
    )  # fmt: skip


@dataclass
class GroupPlan:
    """How a group trains: its networks (``_networks``) cut into blocks, one stack each, under
    ``config`` (the group's, the engine chosen for all its networks) on layers ``sizes``."""

    group: Group
    config: TrainConfig
    sizes: list[int]
    nets: dict[str, np.ndarray]
    blocks: list[dict[str, np.ndarray]]
    masked: bool  # some networks narrower than the stack: widths masked in every block


def plan_groups(cells: list[Cell], X: np.ndarray, t: np.ndarray, max_memory: float | None,
                block_nets: int | None = None, local: bool = True) -> list[GroupPlan]:  # fmt: skip
    """Each group's blocks: as many networks a block as fit in memory (``max_memory`` GiB, or
    the machine's), at most ``block_nets`` (``None``: no bound but memory); trained ``local``ly
    on the compiled engine on a CPU, equal blocks of at most ``CPU_BLOCK_NETS`` if they can."""
    plans = []
    for group in group_cells(cells):
        nets = _networks(cells, group)
        total = len(nets["seed"])
        engine = group.config.engine_kwargs(total)["engine"]  # what the whole group takes
        config = dataclasses.replace(group.config, engine=engine)
        sizes = config.sizes(X.shape[1], t.shape[1])
        size = _block_size(config, sizes, len(X), total, max_memory)
        size = size if block_nets is None else min(size, block_nets)
        if local:
            size = _cpu_block(config, total, size)
        blocks = [{k: v[lo : lo + size] for k, v in nets.items()} for lo in range(0, total, size)]
        masked = bool((nets["widths"] != np.asarray(sizes[1:-1])).any())
        plans.append(GroupPlan(group, config, sizes, nets, blocks, masked))
    return plans


def _cpu_block(config: TrainConfig, total: int, size: int) -> int:
    """``size``, or where the group trains on the compiled engine on a CPU, equal blocks of
    at most ``CPU_BLOCK_NETS`` dividing its ``total`` networks (one compiled shape), if a
    split into at most twice the fewest such blocks does."""
    if config.engine != "jax" or size <= CPU_BLOCK_NETS:
        return size
    from mlplab.engines._jax_setup import devices

    if devices(config.device)[0].platform != "cpu":
        return size
    fewest = -(-total // CPU_BLOCK_NETS)
    for count in range(fewest, 2 * fewest + 1):
        if total % count == 0:
            return min(size, total // count)
    return size


def finish_group(cells: list[Cell], plan: GroupPlan, outcomes: list[StackOutcome],
                 rows: list, records: list) -> None:  # fmt: skip
    """Fill the group's cells' ``rows`` and add its networks' ``records``, from its blocks'
    ``outcomes`` (in the blocks' order)."""
    outcome = _joined(outcomes)
    total = len(plan.nets["seed"])
    for i in plan.group.cells:
        rows[i] = _row(cells[i], outcome, plan.nets["cell"] == i, total)
    records += _records(cells, plan.nets, outcome)


def train_grid(cells: list[Cell], *, max_memory: float | None = None,
               progress: Callable[[int], None] | None = None) -> SweepResult:  # fmt: skip
    """Train every cell's networks as the fewest stacks; ``progress(cells)`` after each group.

    Ctrl-C raises ``CellsLost`` holding the rows of the groups that finished and naming
    the cells cut, as the cell-by-cell run does.
    """
    X, t = ensemble_data(cells[0][0])  # the same data in every cell
    rows: list[dict[str, Any] | None] = [None] * len(cells)
    records: list[dict[str, Any]] = []
    stacks = 0
    try:
        for plan in plan_groups(cells, X, t, max_memory):
            outcomes = [_summary_only(_train_block(plan.config, plan.sizes, part, X, t,
                                                   plan.masked))
                        for part in plan.blocks]  # fmt: skip
            stacks += len(outcomes)
            finish_group(cells, plan, outcomes, rows, records)
            if progress is not None:
                progress(len(plan.group.cells))
    except KeyboardInterrupt:
        raise interrupted(cells, rows) from None
    return SweepResult(rows, records, stacks)  # type: ignore[arg-type]


def _summary_only(outcome: StackOutcome) -> StackOutcome:
    """``outcome`` without its history's per-epoch arrays (the grid reads only the history's
    ``extra``), so that the next block's records reuse their memory instead of new pages."""
    history = outcome.history
    outcome.history = History(np.empty((0, *history.loss.shape[1:])), history.epochs,
                              history.seconds, history.extra)  # fmt: skip
    return outcome


def _joined(parts: list[StackOutcome]) -> StackOutcome:
    """The blocks' outcomes as one (their networks in order, their seconds added)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    history = copy.copy(first.history)  # the first block's, its compiling the blocks' sum
    compiling = sum(p.history.extra.get("compile_seconds", 0.0) for p in parts)
    history.extra = {**first.history.extra, "compile_seconds": compiling}
    return StackOutcome(
        solved=np.concatenate([p.solved for p in parts]),
        epochs_to_solve=np.concatenate([p.epochs_to_solve for p in parts]),
        final_loss=np.concatenate([p.final_loss for p in parts]),
        diverged=np.concatenate([p.diverged for p in parts]),
        seconds=sum(p.seconds for p in parts),
        history=history,
        watch_every=first.watch_every,
    )


def _row(cell: Cell, outcome: StackOutcome, mine: np.ndarray, total: int) -> dict[str, Any]:
    """``run_cell``'s row of one cell from its networks in the group's outcome; the group's
    seconds shared out by networks."""
    config, _ = cell
    share = mine.sum() / total
    compile_seconds = float(outcome.history.extra.get("compile_seconds", 0.0)) * share
    own = StackOutcome(
        solved=outcome.solved[mine],
        epochs_to_solve=outcome.epochs_to_solve[mine],
        final_loss=outcome.final_loss[mine],
        diverged=outcome.diverged[mine],
        seconds=outcome.seconds * share,
        history=outcome.history,
        watch_every=outcome.watch_every,
    )
    summary = {**own.summary(), "compile_seconds": compile_seconds}
    return {"hidden": list(config.hidden), "activation": config.activation, "lr": config.lr,
            "init": config.init, "epochs": config.epochs, **summary}  # fmt: skip


def _records(cells: list[Cell], nets: dict[str, np.ndarray],
             outcome: StackOutcome) -> list[dict[str, Any]]:  # fmt: skip
    """One flat record per network: its cell's settings, its seed and what it gave."""
    out = []
    for j, i in enumerate(nets["cell"].tolist()):
        config = cells[i][0]
        solved = bool(outcome.solved[j])
        out.append({
            "cell": i, "hidden": "x".join(str(h) for h in config.hidden),
            "activation": config.activation, "lr": config.lr, "init": config.init,
            "epochs": config.epochs, "seed": int(nets["seed"][j]), "solved": solved,
            "epochs_to_solve": int(outcome.epochs_to_solve[j]) if solved else None,
            "final_loss": float(outcome.final_loss[j]), "diverged": bool(outcome.diverged[j]),
        })  # fmt: skip
    return out
