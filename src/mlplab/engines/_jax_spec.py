"""From a ``TrainJob`` to the static ``Plan`` the compiled program is built for.

Everything engine ``jax`` cannot compile is refused here, before any work, in one line
naming it and the way out (``engine='numpy'``): a user's activation that does not run on
JAX arrays, a loss or optimizer object of the user's own, a penalty other than L1 or L2,
sparse inputs.
"""

from __future__ import annotations

from mlplab.checks import is_sparse
from mlplab.engines import _jax_math as jm
from mlplab.engines._jax_program import Plan
from mlplab.errors import ConfigError
from mlplab.nn.losses import LOSSES
from mlplab.train.job import TrainJob
from mlplab.train.optimizers import SGD, Adam, Momentum, Nesterov
from mlplab.train.regularization import L1, L2

__all__ = ["plan_for"]

_OPTIMIZERS = {SGD: "sgd", Momentum: "momentum", Nesterov: "nesterov", Adam: "adam"}
_PENALTIES = {L2: "l2", L1: "l1"}


def plan_for(job: TrainJob, devices: tuple = (), chunks: int = 1) -> Plan:
    """The plan of ``job``'s training, split over ``devices`` and on each device into
    ``chunks`` trained one after another (a stack only)."""
    net = job.net
    if is_sparse(job.X) or is_sparse(job.Xv):
        raise ConfigError(
            "engine 'jax' trains on dense inputs; train sparse rows with engine='numpy' "
            "(or pass X.toarray())"
        )
    return Plan(
        spec=net_spec(job),
        optimizer=optimizer_spec(job.optimizer),
        n=job.n,
        batch=job.batch_size,
        shuffle=job.shuffle,
        accuracy=job.labels is not None,
        validation=job.Xv is not None,
        stacked=net.stack is not None,
        devices=tuple(devices),
        chunks=chunks,
    )


def net_spec(job: TrainJob) -> jm.NetSpec:
    """The network's layers, loss and penalties by name."""
    net = job.net
    if LOSSES.get(net.loss.name) is not net.loss:
        raise ConfigError(
            f"engine 'jax' computes the built-in losses ({', '.join(LOSSES)}), not {net.loss!r}; "
            "train with engine='numpy'"
        )
    for act in (net.activation, net.output_activation):
        jm.check_activation(act)
    depth = len(net.sizes) - 1
    names = [net.activation.name] * (depth - 1) + [net.output_activation.name]
    layers = tuple(jm.LayerSpec(name, net.bias) for name in names)
    penalties = []
    for penalty in job.regularizers:
        kind = _PENALTIES.get(type(penalty))
        if kind is None:
            raise ConfigError(
                f"engine 'jax' computes the L1 and L2 penalties, not {penalty!r}; "
                "train with engine='numpy'"
            )
        penalties.append((kind, penalty.alpha))
    return jm.NetSpec(
        layers=layers,
        loss=net.loss.name,
        reduction=net.reduction,
        penalties=tuple(penalties),
    )


def optimizer_spec(optimizer: object) -> jm.OptimizerSpec:
    """One of mlplab's four optimizers with its settings; any other object is refused."""
    kind = _OPTIMIZERS.get(type(optimizer))
    if kind is None:
        raise ConfigError(
            f"engine 'jax' runs the optimizers {', '.join(_OPTIMIZERS.values())}, not "
            f"{optimizer!r}; train with engine='numpy'"
        )
    return jm.OptimizerSpec(
        kind,
        momentum=getattr(optimizer, "momentum", 0.0),
        beta1=getattr(optimizer, "beta1", 0.0),
        beta2=getattr(optimizer, "beta2", 0.0),
        eps=getattr(optimizer, "eps", 0.0),
    )
