"""The compiled engine: the NumPy engine's epochs, compiled by JAX (``jit`` of a loop over epochs).

``fit(..., engine="jax")`` runs blocks of epochs as one compiled program each: the seed's
forward and backward passes (``mlplab.nn.layer``, run plain), every optimizer's update rule
and penalty (``mlplab.train``: the same rules the NumPy engine runs), schedule, sample
weights, mini-batches in the NumPy engine's seeded order (permutations drawn on the host
from the same generator) and validation. A stack runs the single network's step on all its
networks at once (narrow ones with the networks on the last axis, wider ones through
``jax.vmap``), split over the host's devices. Callbacks get each epoch's logs replayed after the
block; a callback that stops mid-block has the block run again up to its epoch, so the
weights, the optimizer and the generator end where the NumPy engine leaves them.
``compile_seconds`` says what compiling took (kept apart from training).

Importing this module imports JAX (about 2 s on the project's machine), configured by
``_jax_setup``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.engines._jax_setup import devices as find_devices
from mlplab.engines._jax_setup import load_jax
from mlplab.engines.base import AfterEpoch, Diverged, EpochLogs, replay
from mlplab.train.job import TrainJob
from mlplab.train.stack_record import MAX_LOSS_VALUES

jax = load_jax()  # before the modules below import jax: the flags must be set first

from mlplab.engines._jax_program import Program, ProgramCache, hyper_of, plan_for  # noqa: E402

Array = np.ndarray

__all__ = ["MAX_BLOCK_VALUES", "MIN_SPLIT", "JaxEngine", "JaxRunner"]

# Logs per block at most: as many as a fit's record keeps (``StackRecord``), so a fit whose
# epochs come back only where recorded runs as one block (a stack of 1000 over 2000 epochs:
# one block instead of two; 60000 epochs, every 15th kept: one instead of 60).
MAX_BLOCK_VALUES = MAX_LOSS_VALUES
MAX_ORDER_VALUES = 2**22  # shuffled batch indices per block at most (16 MiB)
# Stacks from this size are split over the devices: below it the work of an epoch is too
# small to pay for starting every device (a block of one epoch of 50 networks: 3.2 ms split
# over 2 CPU devices, 1.0 ms on one, measured on the project's loaded 2-core machine).
MIN_SPLIT = 128
# A device trains its share of a stack in chunks of about this much work (parameters and
# batch values, ``_network_bytes``): 100000 seed networks (about 1.3 KiB each by that count,
# chunks of about 800) trained 1.87x faster than in one piece (benchmarks/engines.py, case 2b).
CHUNK_BYTES = 2**20
# Fewer chunks than this: one piece. Chunking compiles a loop around the block (1000 seed
# networks in 3 chunks: 2.9 s CPU of compiling, in one piece 1.9 s, and no faster to train).
MIN_CHUNKS = 4


class JaxEngine:
    """Runs epochs compiled by JAX on ``device`` (``"cpu"``, ``"gpu"``; ``None``: JAX's default).

    ``fit(engine="jax")`` takes JAX's default devices; ``fit(engine=JaxEngine("cpu"))`` chooses.
    Compiled programs are kept in ``programs``: by default the one ``ProgramCache`` every
    ``JaxEngine`` shares (the last ``MAX_PROGRAMS`` used), or one of the caller's own.
    """

    name = "jax"
    shared_programs = ProgramCache()  # bounded; what compiling gave, shared by fits

    def __init__(self, device: str | None = None, programs: ProgramCache | None = None) -> None:
        self.devices = find_devices(device)  # a ConfigError for an unknown or absent device
        self.programs = self.shared_programs if programs is None else programs

    def start(self, job: TrainJob) -> JaxRunner:
        return JaxRunner(job, self.devices, self.programs)


class JaxRunner:
    """One ``fit``'s epochs as compiled blocks; the network's arrays updated after each block."""

    def __init__(self, job: TrainJob, devices: list, programs: ProgramCache) -> None:
        self.job = job
        self.programs = programs
        net = job.net
        self.stack = net.stack
        big = (self.stack or 0) >= max(MIN_SPLIT, len(devices))
        split = devices if big and len(devices) > 1 else []
        chunks = _chunks(job, len(split))
        self.plan = plan_for(job, tuple(split), chunks)
        self.padded = _padded(self.stack, len(split), chunks)
        self._placement = _placement(devices[0], split)
        # Unsplit on JAX's default device, host arrays go to the compiled call as they are (it
        # copies them in): a device_put per array costs more than a short block (a one-epoch fit
        # of the playground's 6x8 network: 3.4 ms with them, 1.5 ms without).
        self._host_args = not split and devices[0] == jax.devices()[0]
        self._data = self._put((job.X, job.T, job.labels, job.weight), shared=True)
        val = (job.Xv, job.Tv, job.val_labels, job.val_weight)
        self._val = self._put(val, shared=True) if job.Xv is not None else None
        self._state, self._t = self._initial_state()
        self.compile_seconds = 0.0
        self._programs: dict[tuple, Program] = {}  # by block length, kept rows and rates
        self._next = 0  # the epoch the next block starts at
        self._diverged_at = None if self.stack is None else np.full(self.stack, -1, np.int64)

    # --- the runner interface --------------------------------------------------------

    def __enter__(self) -> JaxRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing held open."""

    @property
    def diverged_at(self) -> Array | None:
        return self._diverged_at

    def block(self, remaining: int, weights_every: int | None, every: int = 1) -> int:
        """As many epochs as fit one block; one when the schedule reads each epoch's loss;
        up to the next multiple of ``weights_every`` when a callback reads the weights.
        With only every ``every``-th epoch's logs asked for, blocks hold ``every`` times
        as many epochs (a stack's run is then one block, ``StackRecord`` bounding it)."""
        if getattr(self.job.schedule, "reads_loss", False):  # the next rate reads this loss
            return 1
        count = min(remaining, every * max(1, MAX_BLOCK_VALUES // (self.stack or 1)))
        if self.plan.shuffled:  # each epoch's order goes in: (epochs, n) indices
            count = min(count, max(1, MAX_ORDER_VALUES // self.job.n))
        if self.plan.per_network_lr:  # each epoch's rate of each network goes in: (K, epochs)
            count = min(count, max(1, MAX_BLOCK_VALUES // (self.stack or 1)))
        if count < remaining:  # blocks of one length (whole intervals): one program for all
            count = every * _even_block(-(-remaining // every), max(1, count // every))
        if weights_every:
            count = min(count, weights_every - self._next % weights_every)
        return count

    def run(self, first: int, stop: int, after_epoch: AfterEpoch | None = None,
            every: int = 1) -> EpochLogs:  # fmt: skip
        """Run epochs ``[first, stop)`` compiled, then replay each epoch to ``after_epoch``;
        with none, only the epochs that are multiples of ``every`` come back."""
        rng_state = self.job.rng.bit_generator.state
        before = (self._state, self._t)
        logs, diverged = self._run_block(first, stop, 1 if after_epoch else every)
        self._write_back()  # current at the block's end, where a weights_every reader looks
        if diverged is not None:  # the epochs before it are told, as the NumPy engine tells
            logs = logs.head(diverged[0] - first)
        told = replay(logs, first, after_epoch)
        stopped = len(told) < len(logs)
        if stopped or (diverged is not None and self.plan.diverged_on_host):
            # stopped mid-block, or one network that diverged (its step froze nothing):
            # run again up to that epoch, where the NumPy engine ends
            self.job.rng.bit_generator.state = rng_state
            self._state, self._t = before
            if told:
                told, _ = self._run_block(first, first + len(told), 1)
            else:
                self._host = jax.device_get((before[0][:4], before[1]))
            self._write_back()
        if diverged is not None and not stopped:
            raise Diverged(*diverged, told)
        self._next = first + len(told)
        return told

    def finish(self) -> None:
        """The weights and optimizer state are written back after every block already."""

    # --- blocks --------------------------------------------------------------------

    def _run_block(self, first: int, stop: int, every: int) -> tuple[EpochLogs, tuple | None]:
        """Run the compiled block; its logs (of the epochs that are multiples of ``every``)
        and, if one network (or every one of a stack) diverged, ``(epoch, loss)`` of that."""
        job = self.job
        count = stop - first
        epochs = np.arange(first, stop, dtype=np.int32)
        lrs = job.optimizer.rates(first, stop)  # each epoch's, float64; set by the optimizer
        columns = 0  # each network's rates: one per epoch, or one for the block (1)
        if self.plan.per_network_lr:  # (epochs, K): each network's, in the state's hyper
            self._state, columns = self._with_rates(lrs)
            lrs = lrs[:, 0]
        if (lrs == lrs[0]).all():
            lrs = lrs[:1]  # one rate: the program takes it once (``_block``)
        orders = None
        if self.plan.shuffled:
            orders = np.stack([job.rng.permutation(job.n) for _ in epochs]).astype(np.int32)
        rows, kept = _kept_rows(epochs, every)
        args = (self._state, self._data, self._val, lrs, orders, epochs, self._t, rows)
        shape = (count, kept, len(lrs), columns)  # this run's programs by what they take
        compiled = self._programs.get(shape)
        if compiled is None:
            compiled = self._programs[shape] = self.programs.compile_block(self.plan, args, kept)
            self.compile_seconds += compiled.compile_seconds
            compiled.compile_seconds = 0.0  # counted once, by the run that compiled it
        self._state, self._t, out = compiled.run(*args)
        # one copy to the host per block: logs, weights, optimizer state, divergence (the
        # per-network settings, last in the state, stay on the device)
        out, self._host = jax.device_get((out, (self._state[:4], self._t)))
        span = None if kept is None else dict(every=every, skip=-first % every, span=count)
        logs = self._logs(out, span)
        return logs, self._divergence(logs, first)

    def _with_rates(self, lrs: Array) -> tuple[tuple, int]:
        """The state with each network's rates of the block in its hyper, ``(K, epochs)``, or
        ``(K, 1)`` when each keeps one rate through the block (no schedule: 1000 networks'
        2500 epochs, 20 MB copied twice, otherwise); and that second size."""
        if (lrs == lrs[0]).all():
            lrs = lrs[:1]
        rates = self._pad(np.ascontiguousarray(lrs.T))
        if not self._host_args:
            rates = jax.device_put(rates, self._placement[1])
        *state, hyper = self._state
        return (*state, {**hyper, "lrs": rates}), rates.shape[1]

    def _logs(self, out: dict, span: dict | None) -> EpochLogs:
        """The block's logs as float64 host arrays, the padding networks dropped; ``span``:
        ``EpochLogs``' ``every``, ``skip`` and ``span`` when only some epochs came out."""
        host = {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
        if self.stack is not None:
            host = {k: v[:, : self.stack] for k, v in host.items()}
        return EpochLogs(host["loss"], host.get("accuracy"), host.get("val_loss"),
                         host.get("val_accuracy"), **(span or {}))  # fmt: skip

    def _divergence(self, logs: EpochLogs, first: int) -> tuple | None:
        if self.plan.diverged_on_host:  # every epoch's loss: the first non-finite one
            bad = np.flatnonzero(~np.isfinite(logs.loss))
            return (first + int(bad[0]), float(logs.loss[bad[0]])) if bad.size else None
        _, _, frozen, (epoch, loss) = self._host[0]
        if self.stack is None:
            return (int(epoch), loss.item()) if frozen else None
        self._diverged_at = np.asarray(epoch[: self.stack], dtype=np.int64)
        if frozen[: self.stack].all():
            last = int(self._diverged_at.argmax())
            return int(self._diverged_at[last]), np.asarray(loss[: self.stack])
        return None

    # --- state in and out ----------------------------------------------------------

    def _put(self, arrays: tuple, shared: bool) -> tuple:
        """Arrays onto the devices: ``shared`` ones whole on each, a stack's split."""
        if self._host_args:
            return tuple(None if a is None else np.asarray(a) for a in arrays)
        where = self._placement[0 if shared else 1]
        return tuple(None if a is None else jax.device_put(np.asarray(a), where) for a in arrays)

    def _initial_state(self) -> tuple:
        job, net = self.job, self.job.net
        flat = [v for p in net.params for v in p.values()]  # the optimizer's order
        slots, held = _slots(job.optimizer, self.plan.update.slots, flat)
        t0 = getattr(job.optimizer, "t", 0) if held else 0  # new state restarts the count
        lead = () if self.stack is None else (self.padded,)
        frozen = np.zeros(lead, dtype=bool)
        div = (np.full(lead, -1, np.int32), np.full(lead, np.nan, net.dtype))
        pad = self._pad
        state = (
            [{name: pad(v) for name, v in p.items()} for p in net.params],
            tuple(tuple(pad(s) for s in slot) for slot in slots),
            frozen,
            div,
            jax.tree.map(pad, hyper_of(job)),  # per-network settings, vmapped inputs
        )
        if self._host_args:  # copies already (``_pad``)
            return state, np.float64(t0)
        stacked = jax.tree.map(lambda a: jax.device_put(a, self._placement[1]), state)
        return stacked, jax.device_put(np.float64(t0), self._placement[0])

    def _pad(self, a: Array) -> Array:
        """A copy of ``a`` (the device may share its memory, and the network's arrays are
        written to), a stack's with copies of network 0 added to fill every device equally."""
        a = np.array(a, order="C", copy=True)
        if self.stack is None or self.padded == self.stack:
            return a
        extra = np.repeat(a[:1], self.padded - self.stack, axis=0)
        return np.concatenate([a, extra])

    def _write_back(self) -> None:
        """The block's weights into ``net.params`` (in place) and the optimizer's state."""
        (params, slots, _, _), steps = self._host
        cut = slice(None) if self.stack is None else slice(0, self.stack)
        for target, values in zip(self.job.net.params, params, strict=True):
            for name, value in target.items():
                np.copyto(value, np.asarray(values[name])[cut])
        steps = int(steps)
        optimizer = self.job.optimizer
        names = self.plan.update.slots
        if names:
            state = {f"{name}.{i}": np.asarray(a)[cut] for name, arrays in zip(names, slots,
                     strict=True) for i, a in enumerate(arrays)}  # fmt: skip
            state["step"] = np.array(steps)
            optimizer.load_state_dict(state)


def _kept_rows(epochs: Array, every: int) -> tuple[Array | None, int | None]:
    """For a block of ``epochs`` of which those that are multiples of ``every`` are kept:
    each epoch's row among the kept (the kept count for the others) and that count;
    ``(None, None)`` when every epoch is."""
    if every == 1:
        return None, None
    keep = epochs % every == 0
    kept = int(keep.sum())
    return np.where(keep, np.cumsum(keep) - 1, kept).astype(np.int32), kept


def _even_block(remaining: int, most: int) -> int:
    """A block length of at most ``most`` dividing ``remaining`` (60000 epochs in blocks of
    at most 1024: 1000), so one compiled program runs them all; ``most`` if none is near."""
    fewest = -(-remaining // most)
    for blocks in range(fewest, 2 * fewest + 1):
        if remaining % blocks == 0:
            return remaining // blocks
    return most


def _chunks(job: TrainJob, devices: int) -> int:
    """How many chunks of at most ``CHUNK_BYTES`` of work each device's share of a stack
    is trained in (1: a single network, a share that fits, or one of under ``MIN_CHUNKS``)."""
    stack = job.net.stack
    if stack is None:
        return 1
    share = -(-stack // max(1, devices))
    per_chunk = max(1, CHUNK_BYTES // _network_bytes(job))
    chunks = -(-share // per_chunk)
    return chunks if chunks >= MIN_CHUNKS else 1


def _network_bytes(job: TrainJob) -> int:
    """About the bytes one network's step works on: its parameters, gradients and
    optimizer state, and each layer's values for the batch (forward and backward)."""
    net = job.net
    params = sum(v[0].size for p in net.params for v in p.values())
    rows = min(job.batch_size, job.n)
    units = sum(net.sizes[1:]) + net.sizes[0]
    copies = 2 + len(getattr(job.optimizer, "slots", ()))  # weights, gradients, state
    return np.dtype(net.dtype).itemsize * (copies * params + 4 * rows * units)


def _padded(stack: int | None, devices: int, chunks: int = 1) -> int | None:
    """The stack's size rounded up so every device holds ``chunks`` equal chunks."""
    if stack is None:
        return stack
    parts = max(1, devices) * chunks
    return -(-stack // parts) * parts


def _placement(device: Any, split: list) -> tuple:
    """``(shared, stacked)`` shardings: replicated and split along the stack, or one device."""
    if len(split) < 2:
        one = jax.sharding.SingleDeviceSharding(device)
        return one, one
    mesh = jax.sharding.Mesh(np.array(split), ("s",))
    P = jax.sharding.PartitionSpec
    return jax.sharding.NamedSharding(mesh, P()), jax.sharding.NamedSharding(mesh, P("s"))


def _slots(optimizer: Any, names: tuple[str, ...], params: list[Array]) -> tuple[list, bool]:
    """The optimizer's state arrays per slot as it holds them (``True``), or zeros before its
    first step on these shapes (``False``), as its ``step`` would allocate them."""
    held = optimizer.state_dict() if names else {}
    arrays = [[held.get(f"{name}.{i}") for i in range(len(params))] for name in names]
    fits = all(a is not None and a.shape == p.shape
               for slot in arrays for a, p in zip(slot, params, strict=True))  # fmt: skip
    if not fits:
        return [[np.zeros_like(p) for p in params] for _ in names], False
    return [[np.asarray(a, dtype=p.dtype) for a, p in zip(slot, params, strict=True)]
            for slot in arrays], True  # fmt: skip
