"""The playground server under load: frames, epochs, page loads, and a flooding tab.

Starts ``mlplab playground`` in its own process, connects WebSocket clients the
way tabs do, and plays the largest allowed network (6 hidden layers of 8) on
500 points (250 for training, batch 10) for a few seconds:
- one tab: frames per second received and epochs per second trained;
- ten tabs at once: the same per tab (the slowest tab is what counts);
- page loads: the time of ``GET /`` while one tab trains (median of several), and with no
  tab training (the peer it is compared with);
- a flood: one tab sends 5000 ``step`` messages while another plays; the player's
  frames per second;
- an architecture change: while one tab plays, another switches to a network of new shapes
  (6 layers of 7) and plays it: the player's frames per second and longest gap between two
  frames, and the seconds until the new network trains with the server's engine (under
  ``--engine jax``, its programs compile in the background meanwhile; NumPy trains it).

Each server is warmed first: one tab plays until its frames say the server's engine trains
and nothing more is compiling (the seconds until each, from a cold start, are reported), so
the measurements above are of the steady state. Compiled programs are not kept on disk
(``MLPLAB_JAX_CACHE=off``): every server compiles from scratch.

- memory: the server's RSS after 25 pages came and went (connect, configure a network of its
  own shape, play, close) and its growth over 100 more (issue 23: it must not grow).

Targets (issues 5, 14 and 25: these were unit tests until they failed on a busy machine; the
tests now check what is not time): one tab >= 20 frames/s while training >= 200 epochs/s;
ten tabs >= 10 frames/s each; a page load under 100 ms while a tab trains; a flooded server
still >= 15 frames/s to the other tab. Each is printed after the table, met or missed, with
the ratio to its peer measured in the same run (a page load idle; one tab playing alone).

``--engines numpy,jax`` runs one server per engine (``mlplab playground --engine E``) from
this tree, interleaved, and prints each and the ratio of the second to the first.
``--against SRC`` instead runs a second server whose ``mlplab`` comes from another source tree
(e.g. ``/work/main/src``), interleaved with this one, and prints the ratios. Each measurement
is the median of ``--repeats`` runs.

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/playground.py [--seconds 5] [--tabs 10]
       [--repeats 3] [--engines numpy,jax | --against /work/main/src [--engine E]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

SETTINGS = {"hidden": [8] * 6, "points": 500, "train_ratio": 0.5, "batch_size": 10}
CHANGED = {**SETTINGS, "hidden": [7] * 6}  # new shapes: new programs to compile
HERE = str(Path(__file__).resolve().parents[1] / "src")


async def configured(port: int, settings: dict = SETTINGS) -> object:
    ws = await connect(f"ws://127.0.0.1:{port}/ws", max_size=1 << 22)
    await configure(ws, settings)
    return ws


async def configure(ws, settings: dict, state: dict | None = None) -> None:
    """Apply ``settings`` over the tab's own (read from its next ``state`` message)."""
    while state is None:
        message = json.loads(await ws.recv())
        if message["type"] == "state":
            state = message["settings"]
    await ws.send(json.dumps({"type": "config", "settings": {**state, **settings}}))
    while json.loads(await ws.recv())["type"] != "frame":
        pass


async def frames_for(ws, seconds: float, gaps: list | None = None) -> tuple[float, float]:
    """(frames/s, epochs/s) of playing frames received over ``seconds``; the seconds between
    frames appended to ``gaps``."""
    frames, first, t0, last = 0, None, None, None
    while True:
        message = json.loads(await ws.recv())
        if message["type"] != "frame" or not message["playing"]:
            continue
        now = time.perf_counter()
        if t0 is None:
            t0, first = now, message["epoch"]
        else:
            frames += 1
            if gaps is not None:
                gaps.append(now - last[0])
        last = (now, message["epoch"])
        if now - t0 >= seconds:
            break
    elapsed = last[0] - t0
    return frames / elapsed, (last[1] - first) / elapsed


async def until_own_engine(ws, limit: float = 60.0, settled: bool = False) -> float:
    """Seconds from now until a playing frame says the server's own engine trained it (and,
    if ``settled``, that the server compiles nothing more)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        message = json.loads(await ws.recv())
        own = message.get("trained_by", "") == message.get("engine", "")  # older trees: ""
        done = not (settled and message.get("compiling"))
        if message["type"] == "frame" and message.get("playing") and own and done:
            return time.perf_counter() - t0
    return float("nan")


async def warm_up(port: int) -> tuple[float, float]:
    """Play one tab until the server's engine trains it, and until it compiles nothing more,
    then 1 s more; the seconds until each."""
    ws = await configured(port)
    await ws.send(json.dumps({"type": "play"}))
    first = await until_own_engine(ws)
    settled = first + await until_own_engine(ws, settled=True)
    await frames_for(ws, 1.0)
    await ws.close()
    return first, settled


async def architecture_change(port: int, seconds: float = 3.0) -> tuple[float, float, float]:
    """While one tab plays, another switches to new shapes and plays: the player's frames/s
    and longest gap (s), and the seconds until the changed tab trains with the server's engine."""
    player, changer = await configured(port), await configured(port)
    await player.send(json.dumps({"type": "play"}))
    await frames_for(player, 0.5)
    gaps: list[float] = []
    measuring = asyncio.create_task(frames_for(player, seconds, gaps))
    await configure(changer, CHANGED, state={})
    await changer.send(json.dumps({"type": "play"}))
    ready = await until_own_engine(changer, limit=seconds * 3)
    fps, _ = await measuring
    await player.close()
    await changer.close()
    return fps, max(gaps), ready


async def tab(port: int, seconds: float, start: asyncio.Event) -> tuple[float, float]:
    """Play one session for ``seconds``; returns (frames/s, epochs/s)."""
    ws = await configured(port)
    await start.wait()
    await ws.send(json.dumps({"type": "play"}))
    result = await frames_for(ws, seconds)
    await ws.close()
    return result


async def tabs(port: int, count: int, seconds: float) -> list[tuple[float, float]]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(tab(port, seconds, start)) for _ in range(count)]
    await asyncio.sleep(1.0)  # every tab connected and configured
    start.set()
    return await asyncio.gather(*tasks)


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()


async def page_loads(port: int, loads: int = 9) -> float:
    """Median seconds of ``GET /`` while one tab plays the largest network."""
    ws = await configured(port)
    await ws.send(json.dumps({"type": "play"}))
    reader = asyncio.create_task(frames_for(ws, 60))
    await asyncio.sleep(0.5)
    times = []
    for _ in range(loads):
        t = time.perf_counter()
        await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/")
        times.append(time.perf_counter() - t)
        await asyncio.sleep(0.1)
    reader.cancel()
    await ws.close()
    return statistics.median(times)


async def idle_page_loads(port: int, loads: int = 9) -> float:
    """Median seconds of ``GET /`` with no tab training (the peer of ``page_loads``)."""
    times = []
    for _ in range(loads):
        t = time.perf_counter()
        await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/")
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def page_cycles(port: int, first: int, count: int) -> None:
    """Pages that come and go: connect, configure a network of their own shape, play, close."""
    for i in range(first, first + count):
        ws = await configured(port, {**SETTINGS, "hidden": [1 + i % 8, 1 + i // 8 % 8]})
        await ws.send(json.dumps({"type": "play"}))
        await frames_for(ws, 0.05)
        await ws.close()


def memory(server: Server) -> tuple[float, float]:
    """RSS (MB) after 25 page cycles, and its growth over 100 more."""
    asyncio.run(page_cycles(server.port, 0, 25))
    before = rss_mb(server.proc.pid)
    asyncio.run(page_cycles(server.port, 25, 100))
    return before, rss_mb(server.proc.pid) - before


async def flood(port: int, seconds: float = 3.0) -> float:
    """The playing tab's frames/s while another tab sends 5000 ``step`` messages."""
    flooder, player = await configured(port), await configured(port)
    await player.send(json.dumps({"type": "play"}))
    await frames_for(player, 0.5)

    async def send_steps() -> None:
        for _ in range(5000):
            await flooder.send('{"type":"step"}')

    async def swallow() -> None:
        while True:
            await flooder.recv()

    tasks = [asyncio.create_task(send_steps()), asyncio.create_task(swallow())]
    fps, _ = await frames_for(player, seconds)
    for task in tasks:
        task.cancel()
    await flooder.close()
    await player.close()
    return fps


class Server:
    """``mlplab playground`` on a free port, with ``mlplab`` from ``src``, ``--engine engine``."""

    def __init__(self, src: str, engine: str | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": src, "MLPLAB_JAX_CACHE": "off"}
        chosen = [] if engine is None else ["--engine", engine]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlplab", "playground", "--port", "0", *chosen],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.port = int(re.search(r":(\d+)/", self.proc.stdout.readline()).group(1))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def measure(server: Server, args: argparse.Namespace) -> dict[str, float]:
    port = server.port
    cold, settled = asyncio.run(warm_up(port))
    ((fps, eps),) = asyncio.run(tabs(port, 1, args.seconds))
    many = asyncio.run(tabs(port, args.tabs, args.seconds))
    change_fps, change_gap, change_ready = asyncio.run(architecture_change(port))
    return {
        "first tab on its engine after, s": cold,
        "and compiled all it asked for after, s": settled,
        "1 tab frames/s": fps,
        "1 tab epochs/s": eps,
        f"{args.tabs} tabs slowest frames/s": min(f for f, _ in many),
        f"{args.tabs} tabs mean frames/s": statistics.mean(f for f, _ in many),
        f"{args.tabs} tabs epochs/s per tab": statistics.mean(e for _, e in many),
        "page load while training, ms": 1000 * asyncio.run(page_loads(port)),
        "page load idle, ms": 1000 * asyncio.run(idle_page_loads(port)),
        "frames/s beside a 5000-step flood": asyncio.run(flood(port)),
        "frames/s beside a new network": change_fps,
        "longest frame gap then, ms": 1000 * change_gap,
        "new network on its engine after, s": change_ready,
        **dict(zip(("RSS after 25 pages, MB", "its growth over 100 more, MB"), memory(server),
                   strict=True)),
    }  # fmt: skip


# (figure, at least (True) or below (False), threshold, its peer in the same run or None)
TARGETS = [
    ("1 tab frames/s", True, 20.0, None),
    ("1 tab epochs/s", True, 200.0, None),
    ("{tabs} tabs slowest frames/s", True, 10.0, "1 tab frames/s"),
    ("page load while training, ms", False, 100.0, "page load idle, ms"),
    ("frames/s beside a 5000-step flood", True, 15.0, "1 tab frames/s"),
]


def report_targets(values: dict[str, float], tabs: int) -> list[str]:
    """One line per target: the figure, the threshold, met or missed, the ratio to its peer."""
    lines = []
    for name, at_least, threshold, peer in TARGETS:
        key = name.format(tabs=tabs)
        value = values[key]
        met = value >= threshold if at_least else value < threshold
        ratio = f"  {value / values[peer]:.2f}x {peer}" if peer else ""
        bound = ">=" if at_least else "<"
        lines.append(f"  {key} {value:.1f} (target {bound} {threshold:g}: "
                     f"{'met' if met else 'MISSED'}){ratio}")  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", help="a second mlplab source tree to compare with")
    parser.add_argument("--engine", help="the servers' --engine (default: theirs)")
    parser.add_argument("--engines", help="two engines to compare from this tree: numpy,jax")
    args = parser.parse_args()
    if args.engines:
        peers = {name: (HERE, name) for name in args.engines.split(",")}
    else:
        peers = {"this": (HERE, args.engine)}
        if args.against:
            peers["against"] = (args.against, args.engine)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in peers}
    for _ in range(args.repeats):
        for name, (src, engine) in peers.items():  # interleaved: each repeat measures each
            server = Server(src, engine)
            try:
                runs[name].append(measure(server, args))
            finally:
                server.close()
    print("network 2-8-8-8-8-8-8-1, 500 points (250 train), batch 10; "
          f"median of {args.repeats}")  # fmt: skip
    names = list(peers)
    ratio = names[::-1] if args.engines else names  # jax/numpy, this/against
    header = f"{ratio[0]}/{ratio[1]}" if len(names) > 1 else ""
    print(f"{'':38s}" + "".join(f"{n:>10s}" for n in names) + f"{header:>14s}")
    for key in runs[names[0]][0]:
        values = {n: statistics.median(r[key] for r in runs[n]) for n in names}
        line = f"{key:38s}" + "".join(f"{v:10.1f}" for v in values.values())
        if len(names) > 1:
            line += f"{values[ratio[0]] / values[ratio[1]]:14.2f}"
        print(line)
    for name in names:
        medians = {k: statistics.median(r[k] for r in runs[name]) for k in runs[name][0]}
        print(f"targets, {name}:")
        print("\n".join(report_targets(medians, args.tabs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
