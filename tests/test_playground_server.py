"""The real `mlplab playground` server under load and under attack, through WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import require

require("uvicorn")
require("websockets")

from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

BIG = {"hidden": [8] * 6, "points": 500, "batch_size": 10}


def start(*options: str) -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "playground", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"(http://\S+:(\d+)/)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r} {proc.communicate()[1]!r}")
    return proc, match.group(1), int(match.group(2))


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    return err


@pytest.fixture(scope="module")
def server():
    proc, url, port = start()
    yield url, port
    stop(proc)


async def configured(port: int, settings: dict) -> object:
    ws = await connect(f"ws://127.0.0.1:{port}/ws", max_size=1 << 22)
    state = None
    while state is None:
        message = json.loads(await ws.recv())
        if message["type"] == "state":
            state = message["settings"]
    await ws.send(json.dumps({"type": "config", "settings": {**state, **settings}}))
    while json.loads(await ws.recv())["type"] != "frame":
        pass
    return ws


async def drain(ws, seconds: float) -> list[float]:
    """Receive for ``seconds``; the arrival times of frames."""
    times, end = [], time.perf_counter() + seconds
    while (left := end - time.perf_counter()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if message["type"] == "frame":
            times.append(time.perf_counter())
    return times


def load(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_a_page_loads_in_under_100_ms_while_a_tab_trains_the_largest_network(server):
    url, port = server

    async def run() -> list[float]:
        ws = await configured(port, BIG)
        await ws.send(json.dumps({"type": "play"}))
        await drain(ws, 0.5)
        loads = []
        reader = asyncio.create_task(drain(ws, 30))
        for _ in range(9):
            start = time.perf_counter()
            await asyncio.to_thread(load, url)
            loads.append(time.perf_counter() - start)
            await asyncio.sleep(0.1)
        reader.cancel()
        await ws.close()
        return loads

    loads = asyncio.run(run())
    assert statistics.median(loads) < 0.100, loads


def test_a_tab_flooding_step_leaves_another_tab_above_15_frames_per_second(server):
    _, port = server

    async def run() -> tuple[float, int]:
        flooder = await configured(port, BIG)
        player = await configured(port, BIG)
        await player.send(json.dumps({"type": "play"}))
        await drain(player, 0.5)

        async def flood() -> None:
            for _ in range(5000):
                await flooder.send('{"type":"step"}')

        flooding = asyncio.create_task(flood())
        flooder_frames = asyncio.create_task(drain(flooder, 3.5))
        frames = await drain(player, 3.0)
        flooding.cancel()
        stepped = await flooder_frames
        for ws in (flooder, player):
            await ws.close()
        return len(frames) / 3.0, len(stepped)

    fps, flooder_frames = asyncio.run(run())
    assert fps > 15, fps
    assert flooder_frames > 10  # the flooding tab is served too, at frame rate


def test_under_host_0000_a_dns_rebinding_pair_is_refused_in_one_log_line():
    proc, url, port = start("--host", "0.0.0.0", "--allow-host", "lab.example")
    assert url == f"http://lab.example:{port}/"  # the URL to open, by the name allowed

    async def attempt(host: str) -> str:
        # a browser that resolved `host` to this machine: Host and Origin both name it
        uri, origin = f"ws://{host}:{port}/ws", f"http://{host}:{port}"
        try:
            async with connect(uri, origin=origin, host="127.0.0.1", port=port) as ws:
                return json.loads(await ws.recv())["type"]
        except InvalidStatus as e:
            return f"refused {e.response.status_code}"

    try:
        assert asyncio.run(attempt("evil.com")) == "refused 403"
        assert asyncio.run(attempt("lab.example")) == "hello"  # the name the user allowed
        assert asyncio.run(attempt("127.0.0.1")) == "hello"
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": "evil.com"})
        with pytest.raises(urllib.error.HTTPError) as page:
            urllib.request.urlopen(request, timeout=10)
        assert page.value.code == 400
        page.value.close()
    finally:
        err = stop(proc)
    refusals = [line for line in err.splitlines() if "refused" in line]
    assert len(refusals) == 1, err
    assert "Host evil.com" in refusals[0] and "--allow-host" in refusals[0]
    assert "ASGI callable" not in err and "Traceback" not in err
