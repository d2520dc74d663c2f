"""Importing JAX for the compiled engine: CPU flags, float64, devices and the disk cache.

What is set, and only if JAX has not been imported yet (afterwards XLA has read its flags):

* ``--xla_cpu_multi_thread_eigen=false``: XLA's threaded CPU kernels cost a tiny network
  more than they give (one seed network's 60000 epochs: about 2x slower with them);
* one CPU device per core (``jax_num_cpu_devices``), so a stack is split over both cores;
* float64 (``jax_enable_x64``): mlplab's default dtype; float32 networks stay float32;
* the persistent compilation cache under the user's cache directory (``MLPLAB_JAX_CACHE``
  overrides it; ``MLPLAB_JAX_CACHE=off`` turns it off), for compilations of any length.
  ``MLPLAB_JAX_CACHE_MAX_BYTES`` bounds it (JAX's ``jax_compilation_cache_max_size``: the
  least recently used entries deleted beyond it). Not bounded by default: JAX's bounded
  cache keeps an access-time file per entry, and a directory shared with processes that
  wrote entries without one (an unbounded cache) makes it warn on every read.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from types import ModuleType

from mlplab.engines.base import check_engine
from mlplab.errors import ConfigError

__all__ = ["cache_dir", "devices", "load_jax"]

CPU_FLAGS = "--xla_cpu_multi_thread_eigen=false"
INSTALL_HINT = "engine 'jax' needs JAX: pip install 'mlplab[jax]' (or use engine='numpy')"


def cache_dir() -> Path | None:
    """Where compiled programs are kept between runs (``None``: not kept)."""
    chosen = os.environ.get("MLPLAB_JAX_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mlplab")) / "jax"


def _set_flags_before_import() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {CPU_FLAGS}".strip()


@functools.cache  # configured once a process
def load_jax() -> ModuleType:
    """``jax``, configured for mlplab; a ``ConfigError`` naming what to install if absent."""
    first = "jax" not in sys.modules
    if first:
        _set_flags_before_import()
    try:
        import jax
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    if first and "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        with contextlib.suppress(RuntimeError):  # the backend is already up: keep its devices
            jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)
    jax.config.update("jax_enable_x64", True)
    directory = cache_dir()
    if directory is not None and jax.config.jax_compilation_cache_dir is None:
        jax.config.update("jax_compilation_cache_dir", str(directory))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        bound = os.environ.get("MLPLAB_JAX_CACHE_MAX_BYTES")
        if bound:
            jax.config.update("jax_compilation_cache_max_size", int(bound))
    return jax


def devices(kind: str | None = None) -> list:
    """The devices a stack is split over: ``kind`` ``"cpu"`` or ``"gpu"``, ``None``: JAX's default.

    Asking for a GPU where JAX finds none, or for an unknown kind, is a ``ConfigError``.
    """
    jax = load_jax()
    if kind is None:
        return jax.devices()
    check_engine("jax", kind)  # a ConfigError for an unknown device
    try:
        found = jax.devices(kind)
    except RuntimeError:
        found = []
    if not found:
        raise ConfigError(
            f"device {kind!r} asked for, but JAX finds none; for a GPU install "
            "pip install 'jax[cuda12]', or choose device cpu"
        )
    return found
