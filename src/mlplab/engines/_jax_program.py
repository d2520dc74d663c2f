"""A block of epochs as one compiled program: a loop over epochs of the per-network step.

What the program is built for is one static ``Plan``, read off a ``TrainJob`` by
``plan_for`` (which refuses, in one line naming the way out, what cannot compile: a user's
activation that does not run on JAX arrays, a loss, optimizer or penalty object without a
pure rule, sparse inputs). The step (``_step``) is one network's batch, every line of it the
library's own, run on ``jax.numpy``: forward, objective and the seed's backprop
(``mlplab.nn.layer``'s ``Dense.plain`` layers and passes, ``Objective``), the penalties
(``mlplab.train.regularization``) and the optimizer's update rule
(``mlplab.train.optimizers``), then freezing once the loss is non-finite (the weights from
before that step are kept, as the NumPy engine keeps them). A stack of narrow networks runs
that same step on the whole stack with the networks on the last axis (``_jax_lanes``: the
step's arrays are one network's, each holding every network); a wider one is ``jax.vmap`` of
it. Either is split over the devices with ``jax.shard_map`` (each device trains its share;
nothing is exchanged). The epochs run in groups (``_grouped_scan``), each writing its logs
into a small buffer: one seed network's epochs then cost about what a loop without logs does.
The batch order is the NumPy engine's: its permutations come from the
host, one row per epoch. A large stack runs on each device in cache-sized chunks
(``Plan.chunks``), one after another (``lax.map``): 100000 seed networks trained 1.87x
faster than in one ``vmap``, whose work arrays leave the cache (``benchmarks/engines.py``
case 2b; 10000: 1.04-1.08x).

Compiled programs are kept by a ``ProgramCache`` that the engine holds: the most recently
used ``MAX_PROGRAMS`` of them, the least recently used dropped (and freed) beyond that.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from mlplab.checks import is_sparse
from mlplab.engines._jax_lanes import LANES, data_of, lanes_of
from mlplab.errors import ConfigError
from mlplab.nn.activations import ACTIVATIONS, Activation
from mlplab.nn.layer import forward, loss_and_grads, plain_layers
from mlplab.nn.losses import LOSSES, Objective
from mlplab.train.job import TrainJob
from mlplab.train.optimizers import OPTIMIZERS, Rule

__all__ = ["MAX_PROGRAMS", "Plan", "Program", "ProgramCache", "plan_for"]

# Epochs run in groups of this many (``_grouped_scan``): an inner loop writes each epoch's
# logs into the group's small buffer, an outer ``lax.scan`` stacks the groups' buffers.
GROUP, GROUP_ONE = 8, 16  # a stack's, one network's (16: 0.88-0.95x the time of 8)
# A long block of a stack (``LONG_BLOCK`` network-epochs or more on a device) has its groups
# unrolled (full-batch only: a mini-batch epoch is a loop already; one network's never, there
# 1.3-1.5x slower) and tried first with steps that freeze nothing (``_grouped_scan``: again
# with the freezing step where a loss was not finite; not a stack trained in chunks, where
# 100000 seed networks in float32 fell to 0.54x hand JAX's rate). Both make 1000 seed
# networks train up to 10% faster but cost compile time: Adam's program for them took 8.0
# CPU-s to compile with both, 1.2 without (SGD 1.6 and 0.6), which a short run, a test or a
# sweep's grid never wins back (the 10 x 4 x 25 grid: 1.6-2.0 s as one program without
# them, 2.2-2.5 s with).
LONG_BLOCK = 20_000_000  # e.g. 1000 networks x 40000 epochs over 2 devices
UNROLL_STACK, UNROLL_ONE, TRUST_GROUPS = True, False, True
MAX_PROGRAMS = 64  # compiled programs a ProgramCache keeps
# Stacks of networks whose layers are at most this wide run with the networks on the last
# axis (``_jax_lanes``); wider ones as ``jax.vmap`` of one network's step.
MAX_LANES_WIDTH = 16
LANES_ENABLED = True  # False: every stack through vmap (the tests and benchmarks compare)


@dataclass(frozen=True)
class Plan:
    """Everything static about a training run: what the compiled program is specialised to.

    It compares by value (the network's description, the rules with their settings), so
    one compiled program serves every network of the same shape and settings.
    """

    activations: tuple[Activation, ...]  # one per layer, the output's last
    objective: Objective  # output activation, loss and reduction (compares by value)
    update: Rule  # the optimizer's update rule (the rate comes per epoch)
    penalties: tuple[Rule, ...]  # in fit's order
    n: int  # training rows
    batch: int  # rows per batch (n: full batch)
    shuffle: bool
    accuracy: bool  # record accuracy (the classification losses)
    validation: bool
    stacked: bool
    devices: tuple = ()  # a stack split over these (fewer than 2: not split)
    chunks: int = 1  # a stack's share on each device, trained in this many equal chunks
    per_network_lr: bool = False  # each network's rates come in the state's hyper["lrs"]
    lanes: bool = False  # a stack run with the networks on the last axis (``_jax_lanes``)

    @property
    def full_batch(self) -> bool:
        return self.batch >= self.n

    @property
    def shuffled(self) -> bool:
        return self.shuffle and not self.full_batch

    @property
    def diverged_on_host(self) -> bool:
        """One full-batch network: every epoch's loss comes back, and its first non-finite
        one is where it diverged, so the step freezes nothing and keeps no divergence record
        (a third fewer operations an epoch for the seed's network); the runner finds the
        epoch and runs the block again up to it (``JaxRunner.run``)."""
        return not self.stacked and self.full_batch


def lanes_suit(job: TrainJob) -> bool:
    """Whether ``job``'s stack runs with the networks on the last axis: narrow networks
    (every layer at most ``MAX_LANES_WIDTH`` units) with the built-in activations."""
    net = job.net
    return (net.stack is not None and max(net.sizes) <= MAX_LANES_WIDTH
            and all(ACTIVATIONS.get(layer.activation.name) is layer.activation
                    and layer.activation.array_api for layer in net.layers))  # fmt: skip


def plan_for(job: TrainJob, devices: tuple = (), chunks: int = 1) -> Plan:
    """The plan of ``job``'s training, split over ``devices`` and on each device into
    ``chunks`` trained one after another (a stack only); what cannot compile is refused."""
    net = job.net
    if is_sparse(job.X) or is_sparse(job.Xv):
        raise ConfigError(
            "engine 'jax' trains on dense inputs; train sparse rows with engine='numpy' "
            "(or pass X.toarray())"
        )
    if LOSSES.get(net.loss.name) is not net.loss:
        raise ConfigError(
            f"engine 'jax' computes the built-in losses ({', '.join(LOSSES)}), not {net.loss!r}; "
            "train with engine='numpy'"
        )
    for act in (net.activation, net.output_activation):
        check_activation(act)
    return Plan(
        activations=tuple(layer.activation for layer in net.layers),
        objective=net.objective,
        update=_rule_of(job.optimizer),
        penalties=tuple(_penalty_rule(p) for p in job.regularizers),
        n=job.n,
        batch=job.batch_size,
        shuffle=job.shuffle,
        accuracy=job.labels is not None,
        validation=job.Xv is not None,
        stacked=net.stack is not None,
        devices=tuple(devices),
        chunks=chunks,
        per_network_lr=isinstance(getattr(job.optimizer, "initial_lr", None), np.ndarray),
        lanes=LANES_ENABLED and lanes_suit(job),
    )


def hyper_of(job: TrainJob) -> dict[str, Any]:
    """The settings given one value per network (vmapped inputs, not compiled in): the
    update's by name and each penalty's, as arrays of K (``lrs`` is added per block)."""
    update = getattr(job.optimizer, "per_network_settings", dict)()
    penalties = tuple(getattr(p, "per_network_settings", dict)() for p in job.regularizers)
    hyper = {"update": update, "penalties": penalties}
    if getattr(job.net, "masks", None) is not None:  # narrower networks in the stack
        hyper["masks"] = [np.ascontiguousarray(m) for m in job.net.masks]
    return hyper


def _rule_of(optimizer: Any) -> Rule:
    rule = getattr(optimizer, "rule", None)
    if rule is None:
        raise ConfigError(
            f"engine 'jax' runs the optimizers {', '.join(OPTIMIZERS)} (those with a pure "
            f"rule()), not {optimizer!r}; train with engine='numpy'"
        )
    return rule()


def _penalty_rule(penalty: Any) -> Rule:
    rule = penalty.rule() if hasattr(penalty, "rule") else None
    if rule is None:
        raise ConfigError(
            f"engine 'jax' computes the L1 and L2 penalties, not {penalty!r}; "
            "train with engine='numpy'"
        )
    return rule


def check_activation(act: Activation) -> None:
    """Refuse an activation whose functions do not run on JAX arrays, in one line."""
    if act.array_api:
        return
    if ACTIVATIONS.get(act.name) is not act or type(act) is not Activation:
        raise ConfigError(
            f"activation {act.name!r} is not in the activation table with a plain backward "
            "pass, which engine 'jax' cannot compile; register it, or train with engine='numpy'"
        )
    probe = jax.ShapeDtypeStruct((4, 3), jnp.float64)
    try:
        h = jax.eval_shape(act.f, probe)
        d = jax.eval_shape(act.derivative, h if act.from_output else probe)
    except Exception as e:  # whatever the user's code raised on a tracer
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"activation {act.name!r} cannot run on JAX arrays under engine 'jax' "
            f"({reason[:120]}); write it with jax.numpy-compatible operations (operators, "
            "or functions that accept any array) or train it with engine='numpy'"
        ) from None
    if getattr(h, "shape", None) != probe.shape or getattr(d, "shape", None) != probe.shape:
        raise ConfigError(
            f"activation {act.name!r}: on JAX arrays f and derivative must keep the input's shape"
        )


def _class_of(y: Any) -> Any:
    """The predicted class (``mlplab.nn.targets.predicted_class``): argmax, or ``y > 0.5``."""
    return y.argmax(axis=-1) if y.shape[-1] > 1 else (y[..., 0] > 0.5).astype(jnp.int32)


def _freeze(frozen: Any, old: Any, new: Any) -> Any:
    return jax.tree.map(lambda o, n: jnp.where(frozen, o, n), old, new)


def _penalised(plan: Plan, params: list, grads: list, loss: Any, share: float,
               settings: tuple, xp: Any) -> tuple:  # fmt: skip
    """The penalties of ``plan`` in order: each adds to every ``dW`` and to the loss
    (``settings``: each one's per-network values, this network's)."""
    for penalty, own in zip(plan.penalties, settings, strict=True):
        new_dW, value = penalty([p["W"] for p in params], [g["W"] for g in grads], share,
                                xp=xp, **own)  # fmt: skip
        grads = [{**g, "W": dW} for g, dW in zip(grads, new_dW, strict=True)]
        loss = loss + value
    return grads, loss


def _update(plan: Plan, share: float) -> Callable:
    """``(params, slots, hyper, batch, lr, t) -> (params, slots, loss, right)``: one network's
    forward and backward pass, penalties and update on one batch, every line the library's
    (run on ``jax.numpy``, or on a stack with the networks last as one network, ``Lanes``);
    ``right``: the batch's correctly classified rows (0 without accuracy)."""
    xp = LANES if plan.lanes else jnp

    def update(params, slots, hyper, batch, lr, t):
        Xb, Tb, labels, weight = batch
        if plan.lanes:  # the stack's arrays as one network's, each network's rate too
            params, slots, hyper = lanes_of((params, slots, hyper))
            lr = lanes_of(lr) if plan.per_network_lr else lr
        layers = plain_layers(params, plan.activations, xp, hyper.get("masks"))  # its own lines
        loss = loss_and_grads(layers, plan.objective, Xb, Tb, weight)
        grads, loss = _penalised(plan, params, [layer.grad for layer in layers], loss, share,
                                 hyper["penalties"], xp)  # fmt: skip
        right = (_class_of(layers[-1].h) == labels).sum() if plan.accuracy else 0
        flat, tree = jax.tree.flatten(params)
        new_flat, new_slots = plan.update(flat, jax.tree.leaves(grads), slots, lr, t, xp=xp,
                                          **hyper["update"])  # fmt: skip
        return data_of((jax.tree.unflatten(tree, new_flat), new_slots, loss, right))

    return update


def _step(plan: Plan, share: float, trusted: bool = False) -> Callable:
    """One network's step on one batch (``_update``), then freezing once the loss is not
    finite; ``share`` scales the penalties (the batch's share of the rows when the loss is
    summed, else 1), as the NumPy engine scales them. A stack: ``vmap`` of it, or with the
    networks on the last axis (``plan.lanes``) the same step on the whole stack.
    ``trusted``: nothing frozen, the loss trusted to be finite (``_grouped_scan`` checks)."""
    update = _update(plan, share)

    def step(params, slots, frozen, div, hyper, batch, lr, t, epoch):
        new_params, new_slots, loss, right = update(params, slots, hyper, batch, lr, t)
        correct = jnp.asarray(right, jnp.int32)
        if plan.diverged_on_host or trusted:  # nothing frozen (one network: the runner reads
            # the epoch off the losses; a trusted stack's group: checked after it)
            return new_params, new_slots, frozen, div, loss, correct
        bad = ~jnp.isfinite(loss)
        now_frozen = frozen | bad
        params = _freeze(now_frozen, params, new_params)
        slots = _freeze(now_frozen, slots, new_slots)
        first = bad & ~frozen  # diverged at this step: (epoch, loss) kept
        div = (jnp.where(first, epoch, div[0]), jnp.where(first, loss.astype(div[1].dtype), div[1]))
        loss = jnp.where(now_frozen, jnp.nan, loss)
        return params, slots, now_frozen, div, loss, correct

    if not plan.stacked or plan.lanes:
        return step
    lr_axis = 0 if plan.per_network_lr else None  # each network's rate, or one for all
    return jax.vmap(step, in_axes=(0, 0, 0, 0, 0, None, lr_axis, None, None))


def _evaluate(plan: Plan) -> Callable:
    """Validation loss and accuracy of one network (vmapped for a stack, or on ``Lanes``)."""
    xp = LANES if plan.lanes else jnp

    def evaluate(params, val):
        Xv, Tv, labels, weight = val
        layers = plain_layers(lanes_of(params) if plan.lanes else params, plan.activations, xp)
        y = forward(layers, Xv)
        loss, _ = plan.objective(layers[-1], Tv, weight)
        acc = jnp.zeros(())
        if plan.accuracy:
            acc = (_class_of(y) == labels).astype(jnp.float64).mean()
        return data_of((loss, acc))

    return evaluate if not plan.stacked or plan.lanes else jax.vmap(evaluate, in_axes=(0, None))


def _rows(data: tuple, idx: Any) -> tuple:
    """A batch of ``(X, T, labels, weight)`` gathered through the index ``idx``."""
    return tuple(None if a is None else a[idx] for a in data)


def _count(weight: Any, rows: int) -> Any:
    """How much a batch counts in a mean: its rows, or the sum of their weights."""
    return rows if weight is None else weight.sum()


def _epoch(plan: Plan, trusted: bool = False) -> Callable:
    """One epoch: the full batch, or the batches of the epoch's order (a remainder last);
    ``trusted``: of steps that freeze nothing (``_step``)."""
    n, batch = plan.n, plan.batch
    if plan.full_batch:
        step = _step(plan, 1.0, trusted)

        def full(carry, data, hyper, lr, order, epoch):
            params, slots, frozen, div, t = carry
            t = t + 1
            params, slots, frozen, div, loss, correct = step(
                params, slots, frozen, div, hyper, data, lr, t, epoch
            )
            return (params, slots, frozen, div, t), loss, correct.astype(jnp.float64) / n

        return full
    mean = plan.objective.reduction == "mean"
    whole, rest = divmod(n, batch)
    step = _step(plan, 1.0 if mean else batch / n, trusted)
    last = _step(plan, 1.0 if mean else rest / n, trusted) if rest else None

    def one(step_fn, carry, data, hyper, idx, lr, epoch):
        params, slots, frozen, div, t, total, correct = carry
        rows = _rows(data, idx)
        t = t + 1
        params, slots, frozen, div, loss, right = step_fn(
            params, slots, frozen, div, hyper, rows, lr, t, epoch
        )
        # in the stack's dtype: a per-network penalty's strengths (float64) would raise it
        total = total + (loss * _count(rows[3], idx.shape[0]) if mean else loss).astype(total.dtype)
        return params, slots, frozen, div, t, total, correct + right

    def minibatch(carry, data, hyper, lr, order, epoch):
        params, slots, frozen, div, t = carry
        zero = jnp.zeros(frozen.shape, params[0]["W"].dtype)
        inner = (params, slots, frozen, div, t, zero, jnp.zeros(frozen.shape, jnp.int32))
        batches = order[: whole * batch].reshape(whole, batch)
        inner, _ = lax.scan(lambda c, idx: (one(step, c, data, hyper, idx, lr, epoch), None),
                            inner, batches)  # fmt: skip
        if last is not None:
            inner = one(last, inner, data, hyper, order[whole * batch :], lr, epoch)
        params, slots, frozen, div, t, total, correct = inner
        loss = total / _count(data[3], n) if mean else total
        return (params, slots, frozen, div, t), loss, correct.astype(jnp.float64) / n

    return minibatch


def _block(plan: Plan, kept: int | None = None) -> Callable:
    """``(state, data, val, lrs, orders, epochs, t, rows) -> (state, t, logs)`` over a block
    of ``len(epochs)`` epochs; a stack's per-network settings ride in the state (``hyper``),
    each network's rates, ``(K, epochs)`` or ``(K, 1)``, in ``hyper["lrs"]``. ``kept``: only
    that many epochs' logs come out, epoch ``i``'s at row ``rows[i]`` (row ``kept``: not
    kept, dropped); ``None``: every epoch's."""
    epoch_fn, trusting = _epoch(plan), _epoch(plan, trusted=True)
    evaluate = _evaluate(plan) if plan.validation else None

    def block(state, data, val, lrs, orders, epochs, t, rows):
        params, slots, frozen, div, hyper = state
        fixed_order = None if plan.shuffled else jnp.arange(plan.n, dtype=jnp.int32)
        settings = {k: v for k, v in hyper.items() if k != "lrs"}  # each epoch's rate apart
        if plan.lanes:  # the networks to the last axis for the block (and back after it)
            params, slots, settings = _networks_last((params, slots, settings))
        # one rate for the whole block (``lrs`` of length 1): not sliced epoch by epoch
        # (one seed network's 60000 epochs: about 10% of its time)
        rate, lrs = (lrs[0], None) if lrs.shape[0] != epochs.shape[0] else (None, lrs)

        def one_epoch(carry, lr, order, epoch, run=epoch_fn):
            lr = rate if lr is None else lr
            if plan.per_network_lr:  # this epoch's rate of each network (one: the block's)
                own = hyper["lrs"]
                lr = own[:, 0] if own.shape[1] == 1 else own[:, epoch - epochs[0]]
            order = fixed_order if order is None else order
            carry, loss, acc = run(carry, data, settings, lr, order, epoch)
            logs = {"loss": loss}
            if plan.accuracy:
                logs["accuracy"] = acc
            if evaluate is not None:
                logs["val_loss"], val_acc = evaluate(carry[0], val)
                if plan.accuracy:
                    logs["val_accuracy"] = val_acc
            return carry, logs

        def body(carry, xs, run=epoch_fn):
            return one_epoch(carry, *xs, run=run)

        carry = (params, slots, frozen, div, t)
        if kept is None:
            group, unroll, trust = grouping(plan, frozen.size * epochs.shape[0])
            trusted = partial(body, run=trusting) if trust else None
            carry, logs = _grouped_scan(body, carry, (lrs, orders, epochs), group, unroll,
                                        trusted)  # fmt: skip
        else:
            carry, logs = _kept_scan(body, carry, (lrs, orders, epochs), rows, kept)
        params, slots, frozen, div, t = carry
        if plan.lanes:
            params, slots = _networks_first((params, slots))
        return (params, slots, frozen, div, hyper), t, logs

    return _over_devices(plan, _in_chunks(block, plan.chunks) if plan.chunks > 1 else block)


def grouping(plan: Plan, work: int) -> tuple[int, int, bool]:
    """How ``_grouped_scan`` runs a block of ``work`` network-epochs on a device: a group's
    epochs, a loop iteration's, and whether a group is first tried trusted (a long block
    of a stack: unrolled when full-batch, trusted when not in chunks)."""
    if not plan.stacked:
        return GROUP_ONE, GROUP_ONE if UNROLL_ONE else 1, False
    long = work >= LONG_BLOCK
    unrolled = UNROLL_STACK and plan.full_batch and long
    return GROUP, GROUP if unrolled else 1, TRUST_GROUPS and plan.chunks == 1 and long


def _kept_scan(body: Callable, carry: Any, xs: tuple, rows: Any, kept: int) -> tuple:
    """``lax.scan(body, carry, xs)`` keeping only ``kept`` steps' outputs: step ``i``'s at row
    ``rows[i]`` of buffers carried through the loop (row ``kept``: dropped)."""
    shapes = jax.eval_shape(lambda c: body(c, jax.tree.map(lambda a: a[0], xs))[1], carry)

    def one(inner, step_xs):
        carry, buffers = inner
        *own, row = step_xs
        carry, logs = body(carry, tuple(own))
        buffers = {k: lax.dynamic_update_index_in_dim(b, logs[k].astype(b.dtype), row, 0)
                   for k, b in buffers.items()}  # fmt: skip
        return (carry, buffers), None

    buffers = {k: jnp.zeros((kept + 1, *a.shape), a.dtype) for k, a in shapes.items()}
    (carry, buffers), _ = lax.scan(one, (carry, buffers), (*xs, rows))
    return carry, {k: b[:kept] for k, b in buffers.items()}


def _networks_last(tree: Any) -> Any:
    """A stack's arrays (networks on the first axis) with the networks on the last."""
    return jax.tree.map(lambda a: jnp.moveaxis(a, 0, -1), tree)


def _networks_first(tree: Any) -> Any:
    return jax.tree.map(lambda a: jnp.moveaxis(a, -1, 0), tree)


def _grouped_scan(body: Callable, carry: Any, xs: tuple, group: int, unroll: int = 1,
                  trusted: Callable | None = None) -> tuple:  # fmt: skip
    """``lax.scan(body, carry, xs)``, the same carry and outputs, run in groups of ``group``
    steps: an outer scan over the groups, each an inner ``fori_loop`` writing its steps'
    outputs into a ``(group, ...)`` buffer (the steps that do not fill a group: a plain scan),
    ``unroll`` steps of it a loop iteration. ``trusted``: a stack's step that freezes nothing
    (``_step``), run on a group where no network is frozen (``carry[2]``); where one of its
    losses is not finite, the group runs again with ``body``, as it does once one is frozen.

    One seed network's 60000 epochs, each writing its loss: a plain scan took 2.35x the
    time of a ``fori_loop`` that writes nothing (unrolled 8 times, 1.6-1.7x; a ``fori_loop``
    writing into a buffer of every epoch, 2.65x), in groups of 8 1.06-1.17x.
    """
    length = jax.tree.leaves(xs)[0].shape[0]
    whole = length // group * group
    if whole == 0:
        return lax.scan(body, carry, xs)
    head = jax.tree.map(lambda a: a[:whole].reshape(whole // group, group, *a.shape[1:]), xs)
    first = jax.tree.map(lambda a: a[0, 0], head)
    shapes = jax.eval_shape(lambda c: body(c, first)[1], carry)

    def empty() -> Any:  # a group's buffers of outputs
        return jax.tree.map(lambda a: jnp.zeros((group, *a.shape), a.dtype), shapes)

    def one_group(carry, group_xs):
        def run(step):
            def one(i, inner):
                carry, buffers = inner
                carry, out = step(carry, jax.tree.map(lambda a: a[i], group_xs))
                return carry, jax.tree.map(lambda b, o: b.at[i].set(o), buffers, out)

            return lax.fori_loop(0, group, one, (carry, empty()), unroll=unroll)

        if trusted is None:
            return run(body)

        def trusting():  # (whether to run the group again with ``body``, its outcome)
            done = run(trusted)
            return ~jnp.isfinite(done[1]["loss"]).all(), done

        def untried():  # a network is frozen: the group runs with ``body`` alone
            return jnp.bool_(True), (carry, empty())

        again, done = lax.cond(carry[2].any(), untried, trusting)
        return lax.cond(again, lambda: run(body), lambda: done)

    carry, outs = lax.scan(one_group, carry, head)
    outs = jax.tree.map(lambda a: a.reshape(whole, *a.shape[2:]), outs)
    if whole == length:
        return carry, outs
    carry, rest = lax.scan(body, carry, jax.tree.map(lambda a: a[whole:], xs))
    return carry, jax.tree.map(lambda a, b: jnp.concatenate([a, b]), outs, rest)


def _over_devices(plan: Plan, block: Callable) -> Callable:
    """``block`` with a stack split over the plan's devices (as it is, on fewer than 2)."""
    if not plan.stacked or len(plan.devices) < 2:
        return block
    P = jax.sharding.PartitionSpec
    mesh = jax.sharding.Mesh(np.array(plan.devices), ("s",))
    return jax.shard_map(
        block,
        mesh=mesh,
        in_specs=(P("s"), P(), P(), P(), P(), P(), P(), P()),
        out_specs=(P("s"), P(), P(None, "s")),
        check_vma=False,
    )


def _in_chunks(block: Callable, chunks: int) -> Callable:
    """``block`` over a stack cut into ``chunks`` equal chunks of networks, one after
    another; the same state, step count and logs as ``block`` over the whole stack."""

    def cut(a: Any) -> Any:
        return a.reshape(chunks, a.shape[0] // chunks, *a.shape[1:])

    def join(a: Any) -> Any:
        return a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])

    def chunked(state, data, val, lrs, orders, epochs, t, rows):
        def one(part):
            return block(part, data, val, lrs, orders, epochs, t, rows)

        state, ts, logs = lax.map(one, jax.tree.map(cut, state))
        # each chunk's logs are (rows, its networks): side by side, in the stack's order
        logs = jax.tree.map(lambda a: jnp.moveaxis(a, 0, 1).reshape(a.shape[1], -1), logs)
        return jax.tree.map(join, state), ts[0], logs

    return chunked


@dataclass
class Program:
    """A compiled block of ``length`` epochs, and what compiling it took."""

    run: Callable
    length: int
    compile_seconds: float


class ProgramCache:
    """Compiled programs by plan and argument shapes: the ``size`` most recently used, the
    least recently used dropped beyond that (its executable then freed with it). One
    process-wide cache is held by the JAX engine; across processes JAX's persistent cache
    (``_jax_setup``) keeps what was compiled."""

    def __init__(self, size: int = MAX_PROGRAMS) -> None:
        self.size = size
        self._programs: OrderedDict[tuple, Program] = OrderedDict()

    def __len__(self) -> int:
        return len(self._programs)

    def compile_block(self, plan: Plan, args: tuple, kept: int | None = None) -> Program:
        """The compiled program for this plan and these argument shapes, compiled if new;
        ``kept``: only that many epochs' logs come out (``_block``)."""
        shapes = jax.tree.map(lambda a: (a.shape, str(a.dtype)), args)
        key = (plan, kept, str(shapes))
        program = self._programs.get(key)
        if program is not None:
            self._programs.move_to_end(key)
            return program
        start = time.perf_counter()
        compiled = jax.jit(_block(plan, kept)).lower(*args).compile()
        program = Program(compiled, len(args[5]), time.perf_counter() - start)
        self._programs[key] = program
        while len(self._programs) > self.size:
            self._programs.popitem(last=False)
        return program

    def clear(self) -> None:
        """Drop every program."""
        self._programs.clear()
