"""The playground server under load: frames, epochs, page loads, and a flooding tab.

Starts ``mlplab playground`` in its own process, connects WebSocket clients the
way tabs do, and plays the largest allowed network (6 hidden layers of 8) on
500 points (250 for training, batch 10) for a few seconds:
- one tab: frames per second received and epochs per second trained;
- ten tabs at once: the same per tab (the slowest tab is what counts);
- page loads: the time of ``GET /`` while one tab trains (median of several);
- a flood: one tab sends 5000 ``step`` messages while another plays; the player's
  frames per second.

Targets (issues 5 and 14): one tab >= 20 frames/s while training >= 200 epochs/s;
ten tabs >= 10 frames/s each; a page load under 100 ms while a tab trains; a
flooded server still >= 15 frames/s to the other tab.

``--against SRC`` runs the same measurements on a second server whose ``mlplab``
comes from another source tree (e.g. ``/work/main/src``), interleaved with this
one, and prints the ratios. Each measurement is the median of ``--repeats`` runs.

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/playground.py [--seconds 5] [--tabs 10]
       [--repeats 3] [--against /work/main/src]
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
HERE = str(Path(__file__).resolve().parents[1] / "src")


async def configured(port: int) -> object:
    ws = await connect(f"ws://127.0.0.1:{port}/ws", max_size=1 << 22)
    settings = None
    while settings is None:
        message = json.loads(await ws.recv())
        if message["type"] == "state":
            settings = message["settings"]
    await ws.send(json.dumps({"type": "config", "settings": {**settings, **SETTINGS}}))
    while json.loads(await ws.recv())["type"] != "frame":
        pass
    return ws


async def frames_for(ws, seconds: float) -> tuple[float, float]:
    """(frames/s, epochs/s) of playing frames received over ``seconds``."""
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
            last = (now, message["epoch"])
        if now - t0 >= seconds:
            break
    elapsed = last[0] - t0
    return frames / elapsed, (last[1] - first) / elapsed


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
    """``mlplab playground`` on a free port, with ``mlplab`` from ``src``."""

    def __init__(self, src: str) -> None:
        env = {**os.environ, "PYTHONPATH": src}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlplab", "playground", "--port", "0"],
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


def measure(port: int, args: argparse.Namespace) -> dict[str, float]:
    ((fps, eps),) = asyncio.run(tabs(port, 1, args.seconds))
    many = asyncio.run(tabs(port, args.tabs, args.seconds))
    return {
        "1 tab frames/s": fps,
        "1 tab epochs/s": eps,
        f"{args.tabs} tabs slowest frames/s": min(f for f, _ in many),
        f"{args.tabs} tabs mean frames/s": statistics.mean(f for f, _ in many),
        f"{args.tabs} tabs epochs/s per tab": statistics.mean(e for _, e in many),
        "page load while training, ms": 1000 * asyncio.run(page_loads(port)),
        "frames/s beside a 5000-step flood": asyncio.run(flood(port)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", help="a second mlplab source tree to compare with")
    args = parser.parse_args()
    trees = {"this": HERE, **({"against": args.against} if args.against else {})}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, src in trees.items():  # interleaved: each repeat measures every tree
            server = Server(src)
            try:
                runs[name].append(measure(server.port, args))
            finally:
                server.close()
    print("network 2-8-8-8-8-8-8-1, 500 points (250 train), batch 10; "
          f"median of {args.repeats}")  # fmt: skip
    header = f"{'':38s}{'this':>10s}" + (f"{'against':>10s}{'ratio':>8s}" if args.against else "")
    print(header)
    for key in runs["this"][0]:
        mine = statistics.median(r[key] for r in runs["this"])
        line = f"{key:38s}{mine:10.1f}"
        if args.against:
            theirs = statistics.median(r[key] for r in runs["against"])
            line += f"{theirs:10.1f}{mine / theirs:8.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
