"""The engines by name: ``get_engine("numpy" | "jax", device)``.

Each engine is imported when it is asked for (JAX takes seconds to import), so this module
sits beside ``base``, which the engines import, and not in it.
"""

from __future__ import annotations

from mlplab.checks import one_of
from mlplab.engines.base import Engine, check_engine
from mlplab.errors import ConfigError

__all__ = ["ENGINES", "get_engine"]


def _numpy(device: str | None = None) -> Engine:
    from mlplab.engines.numpy import NumpyEngine

    return NumpyEngine()


def _jax(device: str | None = None) -> Engine:
    try:
        from mlplab.engines.jax import JaxEngine
    except ImportError as e:
        if getattr(e, "name", "") and str(e.name).split(".")[0] in ("jax", "jaxlib"):
            raise ConfigError(
                "engine 'jax' needs JAX: pip install 'mlplab[jax]' (or use engine='numpy')"
            ) from None
        raise
    return JaxEngine(device)


ENGINES = {"numpy": _numpy, "jax": _jax}


def get_engine(engine: str | Engine | None, device: str | None = None) -> Engine:
    """An engine from its name in ``ENGINES`` (``None``: numpy) on ``device`` (``"cpu"``,
    ``"gpu"``; ``None``: the engine's default), or an engine object as given."""
    if engine is None:
        engine = "numpy"
    if isinstance(engine, str):
        one_of("engine", engine, ENGINES)
        return ENGINES[check_engine(engine, device)](device)
    if device is not None:
        raise ConfigError(f"device {device!r} goes with an engine name; an engine object "
                          f"chooses its own device: JaxEngine({device!r})")  # fmt: skip
    if not callable(getattr(engine, "start", None)):
        raise ConfigError(f"engine must be a name ({', '.join(ENGINES)}) or an engine object, "
                          f"got {engine!r}")  # fmt: skip
    return engine
