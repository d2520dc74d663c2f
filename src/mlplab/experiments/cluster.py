"""Running cells (a sweep's cells, an ensemble's blocks) on a Dask cluster, keeping each that
finished.

A cell whose worker was killed (Dask's ``KilledWorker``, after the scheduler's own
retries) is submitted ``RETRIES`` more times; a cell that still fails, that was pending
when the scheduler went away, or that raised one of mlplab's errors on its worker (a
setting the worker cannot honour, such as JAX not installed there) is lost. The cells
that finished are yielded as they finish; ``lost`` collects ``(index, reason)`` for the
others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from mlplab.errors import ConfigError, MlplabError

__all__ = ["RETRIES", "SCHEDULER_SCHEMES", "dask_results"]

RETRIES = 1  # resubmissions of a cell whose worker died
SCHEDULER_SCHEMES = ("tcp://", "tls://", "inproc://", "ws://", "wss://")


def _client(address: str, timeout: float) -> Any:
    if not address.startswith(SCHEDULER_SCHEMES):
        raise ConfigError(f"--dask {address!r}: expected a scheduler address like tcp://HOST:8786")
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "--dask needs dask.distributed: pip install 'mlplab[experiments]'"
        ) from None
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {e}") from None


def dask_results(
    run: Callable[..., dict], cells: list, address: str, timeout: float,
    lost: list[tuple[int, str]],
) -> Iterator[tuple[int, dict]]:  # fmt: skip
    """``(index, run(*cell))`` for each cell that finished on the cluster at ``address``."""
    client = _client(address, timeout)  # first: without dask.distributed, it names the extra
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    try:
        futures = [client.submit(run, *cell, pure=False) for cell in cells]
        submitted = {future.key: i for i, future in enumerate(futures)}
        tries = dict.fromkeys(range(len(cells)), 0)
        queue = as_completed(futures, loop=client.loop)
        for future in queue:
            i = submitted[future.key]
            try:
                row = future.result()
            except KilledWorker:
                if tries[i] < RETRIES:
                    tries[i] += 1
                    again = client.submit(run, *cells[i], pure=False)
                    submitted[again.key] = i
                    queue.add(again)
                else:
                    lost.append((i, f"its worker was killed ({tries[i] + 1} submissions)"))
                continue
            except MlplabError as e:  # JAX missing on the worker, every network diverged, ...
                lost.append((i, f"failed on its worker: {e}"))
                continue
            except Exception as e:  # the scheduler gone: cancelled, comm closed, ...
                lost.append((i, f"{type(e).__name__} (the scheduler or its workers went away)"))
                continue
            yield i, row
    finally:
        _close(client)


def _close(client: Any) -> None:
    with contextlib.suppress(Exception):  # closing a client whose scheduler died may fail
        client.close(timeout=5)
