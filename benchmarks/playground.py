"""The playground server under load: frames streamed and epochs trained per second.

Starts ``mlplab playground`` in its own process, connects WebSocket clients the
way tabs do, and plays the largest allowed network (6 hidden layers of 8) on
500 points (250 for training, batch 10) for a few seconds:
- one tab: frames per second received and epochs per second trained;
- ten tabs at once: the same per tab (the slowest tab is what counts).

Targets (issue 5): one tab >= 20 frames/s while training >= 200 epochs/s;
ten tabs >= 10 frames/s each.

Usage: python benchmarks/playground.py [--seconds 5] [--tabs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time

from websockets.asyncio.client import connect

SETTINGS = {"hidden": [8] * 6, "points": 500, "train_ratio": 0.5, "batch_size": 10}


async def tab(url: str, seconds: float, start: asyncio.Event) -> tuple[float, float]:
    """Play one session for ``seconds``; returns (frames/s, epochs/s)."""
    async with connect(url, max_size=1 << 22) as ws:
        settings = None
        while settings is None:
            message = json.loads(await ws.recv())
            if message["type"] == "state":
                settings = message["settings"]
        await ws.send(json.dumps({"type": "config", "settings": {**settings, **SETTINGS}}))
        while json.loads(await ws.recv())["type"] != "frame":
            pass
        await start.wait()
        await ws.send(json.dumps({"type": "play"}))
        frames, first_epoch, t0, last = 0, None, None, None
        while True:
            message = json.loads(await ws.recv())
            if message["type"] != "frame" or not message["playing"]:
                continue
            now = time.perf_counter()
            if t0 is None:
                t0, first_epoch = now, message["epoch"]
            else:
                frames += 1
                last = (now, message["epoch"])
            if now - t0 >= seconds:
                break
        await ws.send(json.dumps({"type": "pause"}))
    elapsed = last[0] - t0
    return frames / elapsed, (last[1] - first_epoch) / elapsed


async def run(url: str, tabs: int, seconds: float) -> list[tuple[float, float]]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(tab(url, seconds, start)) for _ in range(tabs)]
    await asyncio.sleep(1.0)  # every tab connected and configured
    start.set()
    return await asyncio.gather(*tasks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tabs", type=int, default=10)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        port = re.search(r":(\d+)/", line).group(1)
        url = f"ws://127.0.0.1:{port}/ws"
        print("network 2-8-8-8-8-8-8-1, 500 points (250 train), batch 10")
        ((fps, eps),) = asyncio.run(run(url, 1, args.seconds))
        ok = "ok" if fps >= 20 and eps >= 200 else "BELOW TARGET"
        print(f"1 tab:   {fps:6.1f} frames/s, {eps:6.1f} epochs/s   (target 20 and 200: {ok})")
        results = asyncio.run(run(url, args.tabs, args.seconds))
        worst = min(f for f, _ in results)
        mean = sum(f for f, _ in results) / len(results)
        epochs = sum(e for _, e in results) / len(results)
        ok = "ok" if worst >= 10 else "BELOW TARGET"
        print(
            f"{args.tabs} tabs: slowest {worst:5.1f} frames/s, mean {mean:5.1f} frames/s, "
            f"{epochs:6.1f} epochs/s per tab   (target 10: {ok})"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
