"""A session's slices under the compiled JAX engine: a few block lengths, compiled off the path.

A slice of the playground's training is one short ``MLP.fit`` call per block. Under
``engine="jax"`` a call of ``n`` epochs runs one compiled program of exactly ``n`` epochs, and
a new ``n`` means a new compile (0.5-1 s for the largest network on the project's loaded
2-core machine). So a session asks only for the lengths in ``LENGTHS`` (powers of 4): the
longest whose measured (or estimated) time fits what is left of the slice, again until the
slice is spent. One program per length and network shape serves every slice of every tab.

A length not compiled yet is compiled by the app's ``Compiler`` in its own thread (a throwaway
``fit`` of a copy of the network, on the same shapes), while the session trains with NumPy, the same
math to rounding. Neither a page nor another tab waits for a compile. The thread runs at a
lower priority (``NICE``, on Linux): XLA's compile is CPU work that otherwise took two
thirds of a 2-core machine from the tabs training beside it (their epochs/s during a compile:
30-45% of their speed alone at nice 0, 80-90% at nice 10, the compile 1-2.5x slower).

Why ``mlplab playground --engine auto`` takes JAX when it is installed: measured side by side
(``benchmarks/playground.py --engines numpy,jax``, the largest network), one tab trained 4.2x
the epochs per second at the same frame rate, ten tabs 1.4x each; what it costs is a new
network's first 2-3 s on NumPy while it compiles, and the other tabs' frames meanwhile (18.5
against 23.2 frames/s, the longest gap 117 against 57 ms).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from mlplab.engines import Engine, get_engine
from mlplab.errors import ConfigError, MlplabError

__all__ = ["LENGTHS", "Compiler", "Costs", "Warmer"]

LENGTHS = (1, 4, 16, 64, 256, 1024)  # epochs per compiled call
MAX_WAITING = 2  # compiles queued at once; a session asks again on its next slice
NICE = 10  # the compiling thread's niceness (Linux threads have their own)

log = logging.getLogger(__name__)


class Warmer:
    """Compiles programs in one background thread; says which are ready (or refused)."""

    def __init__(self) -> None:
        self._ready: set[Hashable] = set()
        self._refused: set[Hashable] = set()
        self._waiting: dict[Hashable, Future] = {}
        self._stale: set[Hashable] = set()  # compiling for a tab that has gone
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def ready(self, key: Hashable) -> bool:
        return key in self._ready

    @property
    def busy(self) -> bool:
        """Compiling now (calls meanwhile share the interpreter with it, and run slower)."""
        return bool(self._waiting)

    def wanted(self, key: Hashable) -> bool:
        """Neither compiled, nor waiting, nor refused, and room in the queue."""
        known = key in self._ready or key in self._refused or key in self._waiting
        return not known and len(self._waiting) < MAX_WAITING

    def request(self, key: Hashable, warm: Callable[[], object]) -> None:
        """Run ``warm`` (which compiles ``key``'s program) in the background, once."""
        with self._lock:
            if not self.wanted(key):
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, "mlplab-compile", initializer=_lower_priority)
            self._waiting[key] = self._pool.submit(self._run, key, warm)

    def forget(self, owner: Hashable) -> None:
        """Drop what is known of the programs ``(owner, length)``, and their compiles not
        started yet (the last tab training them has gone)."""
        with self._lock:
            for known in (self._ready, self._refused):
                known -= {k for k in known if k[0] == owner}
            for key in [k for k in self._waiting if k[0] == owner]:
                if self._waiting[key].cancel():
                    del self._waiting[key]
                else:  # compiling now: not to be remembered when done
                    self._stale.add(key)

    def close(self) -> None:
        """Stop the compiling thread once its current compile ends; queued ones are dropped."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def wait(self, timeout: float | None = None) -> None:
        """Until every requested compile has finished (tests and benchmarks)."""
        with self._lock:
            futures = list(self._waiting.values())
        wait(futures, timeout=timeout)

    def _run(self, key: Hashable, warm: Callable[[], object]) -> None:
        outcome = self._ready
        try:
            warm()
        except ConfigError as e:  # the engine refuses this set-up: NumPy trains it
            log.warning("the compiled engine cannot train this network: %s", e)
            outcome = self._refused
        except MlplabError:  # e.g. the throwaway copy diverged: compiled all the same
            pass
        except Exception:  # a bug: never retried, NumPy trains on
            log.exception("compiling a block for the playground failed")
            outcome = self._refused
        with self._lock:
            if key in self._stale:
                self._stale.discard(key)
            else:
                outcome.add(key)
            del self._waiting[key]


def _lower_priority() -> None:
    """This thread at niceness ``NICE``, where the system lets a thread have its own."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class Costs:
    """What one program's compiled calls took, by length; estimates for the others.

    Shared by the sessions training the same program (``Compiler.use``): a new tab starts
    from what the others measured."""

    def __init__(self) -> None:
        self.seconds: dict[int, float] = {}

    def record(self, length: int, seconds: float) -> None:
        """A call's time: taken when lower, else let in by at most a quarter (a slow outlier,
        such as a call beside another process's burst, must not keep a length unused)."""
        old = self.seconds.get(length)
        self.seconds[length] = seconds if old is None else min(seconds, 1.25 * old)

    def estimate(self, length: int, numpy_epoch: float) -> float:
        """Seconds for ``length`` epochs: measured; else from the longest shorter length
        measured, ``n``: twice its time for ``4 n`` epochs (a call's fixed cost and its epochs
        in between), in proportion beyond; else in proportion to the shortest longer length
        measured; else at NumPy's rate (slower than compiled)."""
        if length in self.seconds:
            return self.seconds[length]
        if not self.seconds:
            return length * numpy_epoch
        shorter = [n for n in self.seconds if n < length]
        if shorter:
            n = max(shorter)
            return 2 * self.seconds[n] * max(1.0, length / (4 * n))
        m = min(self.seconds)
        return self.seconds[m] * length / m

    def choose(self, epochs: int, seconds: float, numpy_epoch: float, first: bool = False) -> int:
        """The longest of ``LENGTHS`` up to ``epochs`` that fits ``seconds``; 0 if none does.

        A slice's ``first`` call may take up to twice ``seconds`` (ending within half a call of
        the deadline, as NumPy's slices end within half an epoch): with many tabs a slice is
        shorter than a call's fixed cost, and 4 epochs for 3 ms beat 1 for 2 ms."""
        cost = [(n, self.estimate(n, numpy_epoch)) for n in LENGTHS if n <= epochs]
        fits = [n for n, c in cost if c <= seconds]
        if not fits and first:
            fits = [n for n, c in cost if c <= 2 * seconds]
        return fits[-1] if fits else 0


class _Program:
    """One network shape's compiled programs: the engine holding them, their costs, the tabs."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.costs, self.users = engine, Costs(), 0


class Compiler:
    """The compiled programs of one app's tabs: the background compiles, and per program key
    (a network's shapes, functions and penalty) an engine and the costs measured.

    A tab ``use``s the key it trains and ``release``s it when it trains another or closes;
    when no tab trains a key any more, its engine (and with it its compiled programs), its
    costs and its queued compiles are let go. Held by the app (``Hub``), never global.
    """

    def __init__(self) -> None:
        self.warmer = Warmer()
        self._programs: dict[Hashable, _Program] = {}
        self._lock = threading.Lock()

    def use(self, key: Hashable) -> Costs:
        """A tab trains ``key`` now: the costs measured for it (shared with the other tabs)."""
        with self._lock:
            program = self._programs.get(key)
            if program is None:
                program = self._programs[key] = _Program(get_engine("jax"))
            program.users += 1
            return program.costs

    def release(self, key: Hashable) -> None:
        """A tab no longer trains ``key``; the last one lets its programs go."""
        with self._lock:
            program = self._programs.get(key)
            if program is None:
                return
            program.users -= 1
            if program.users > 0:
                return
            del self._programs[key]
        self.warmer.forget(key)

    def engine(self, key: Hashable) -> Engine:
        """The engine whose programs train ``key`` (one that a tab ``use``s)."""
        return self._programs[key].engine

    @property
    def keys(self) -> list[Hashable]:
        """The program keys some tab trains now."""
        with self._lock:
            return list(self._programs)

    def close(self) -> None:
        """Let every program go and stop compiling (the app is shutting down)."""
        self.warmer.close()
        with self._lock:
            self._programs.clear()
