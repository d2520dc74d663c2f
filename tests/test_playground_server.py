"""The real `mlplab playground` server under load and under attack, through WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import require

require("uvicorn")
require("websockets")

from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

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


def test_a_page_loads_while_a_tab_trains_the_largest_network(server):
    """(How fast: ``benchmarks/playground.py``, "page load while training".)"""
    url, port = server

    async def run() -> tuple[list[bytes], int]:
        ws = await configured(port, BIG)
        await ws.send(json.dumps({"type": "play"}))
        frames = asyncio.create_task(drain(ws, 2.0))  # training, and sending frames, meanwhile
        pages = [await asyncio.to_thread(load, url) for _ in range(3)]
        received = await frames
        await ws.close()
        return pages, len(received)

    pages, frames = asyncio.run(run())
    assert all(b"<title>mlplab playground</title>" in page for page in pages)
    assert frames > 0


def test_a_tab_flooding_step_does_not_starve_another_tab(server):
    """Both tabs get frames while one floods: the player at least half as many as the flooder
    (how many per second: ``benchmarks/playground.py``, "frames/s beside a 5000-step flood")."""
    _, port = server

    async def run() -> tuple[int, int]:
        flooder = await configured(port, BIG)
        player = await configured(port, BIG)
        await player.send(json.dumps({"type": "play"}))
        await drain(player, 0.5)

        async def flood() -> None:
            for _ in range(5000):
                await flooder.send('{"type":"step"}')

        flooding = asyncio.create_task(flood())
        flooder_frames = asyncio.create_task(drain(flooder, 3.0))
        frames = await drain(player, 3.0)
        flooding.cancel()
        stepped = await flooder_frames
        for ws in (flooder, player):
            # on a busy machine the server reads a close behind the flooder's queued steps, and
            # waiting for its answer ran into websockets' 10 s timeout, twice; the next tab is
            # served at once either way (measured), so wait a second at most
            ws.close_timeout = 1
            await ws.close()
        return len(frames), len(stepped)

    player_frames, flooder_frames = asyncio.run(run())
    assert flooder_frames > 5  # the flooding tab is served too, a frame at a time
    assert player_frames >= flooder_frames / 2, (player_frames, flooder_frames)


def test_six_tabs_asking_for_code_do_not_hold_up_a_seventh_s_set_up(server):
    """ "Show code" (10000 epochs, about 2.7 s each here) runs in its own thread, the tabs'
    requests in turn: a new set-up is answered before even the first program is."""
    _, port = server

    async def run() -> list[str]:
        tabs = [await configured(port, {}) for _ in range(7)]
        arrivals: list[str] = []

        async def expect(ws, kind: str, name: str) -> None:
            while json.loads(await ws.recv())["type"] != kind:
                pass
            arrivals.append(name)

        waits = [asyncio.create_task(expect(ws, "code", "code")) for ws in tabs[:6]]
        for ws in tabs[:6]:
            await ws.send(json.dumps({"type": "code", "epochs": 10_000}))
        await asyncio.sleep(0.2)  # all six asked (and the first is being computed)
        await tabs[6].send(json.dumps({"type": "config", "settings": {"hidden": [3]}}))
        await expect(tabs[6], "state", "state")
        await asyncio.wait(waits, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        for ws in tabs:  # the tabs gone, their requests still queued are dropped
            await ws.close()
        return arrivals

    arrivals = asyncio.run(run())
    assert arrivals[:2] == ["state", "code"], arrivals


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def cycle(port: int, i: int) -> None:
    """A page's life: connect, configure (a network of its own shape), play, close."""
    ws = await configured(port, {"hidden": [1 + i % 8, 1 + i // 8 % 8]})
    await ws.send(json.dumps({"type": "play"}))
    frames = 0
    while frames < 2:
        frames += json.loads(await ws.recv())["type"] == "frame"
    await ws.close()


TABS_AT_ONCE = 5  # pages open side by side, as a user's tabs are; the training slices are shared


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pages_that_come_and_go_leave_the_server_s_memory_where_it_was():
    """150 cycles (the audit ran 500) after 50 to warm up, 5 tabs at a time: tabs side by side
    share the training slices, so a cycle takes a third of the time it takes alone, and the
    server's memory settles after 50 of them (measured: +0.5 MB from 150 to 300 cycles)."""
    proc, _, port = start("--engine", "numpy")

    async def run(first: int, count: int) -> None:
        for wave in range(first, first + count, TABS_AT_ONCE):
            await asyncio.gather(*(cycle(port, i) for i in range(wave, wave + TABS_AT_ONCE)))

    try:
        asyncio.run(run(0, 50))
        before = rss_mb(proc.pid)
        asyncio.run(run(50, 150))
        after = rss_mb(proc.pid)
    finally:
        err = stop(proc)
    assert after - before < 8, (before, after)  # measured: +3 MB (+2.5 MB a tab at a time)
    assert "Traceback" not in err, err


def test_handled_errors_are_one_log_line_each():
    """A number of 5000 digits is a refused message (no log); an invalid UTF-8 frame, which
    uvicorn handles, one line without its traceback."""
    proc, _, port = start()

    async def run() -> tuple[str, bool]:
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            digits = '{"type":"code","epochs":' + "9" * 5000 + "}"
            await ws.send(digits)
            while (message := json.loads(await ws.recv()))["type"] != "error":
                pass
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.recv()
            async with ws.send_context():
                ws.protocol.send_text(b"\xff\xfe not UTF-8")  # what no browser sends
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as e:
                closed = e.rcvd is not None and e.rcvd.code == 1007  # invalid frame payload
        return message["message"], closed

    try:
        message, closed = asyncio.run(run())
        assert message == "message holds a number too long to read (over 4300 digits)"
        assert closed
    finally:
        err = stop(proc)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Invalid UTF-8" in lines[0], err


def test_under_host_0000_a_dns_rebinding_pair_is_refused_in_one_log_line():
    # the NumPy engine: what is refused does not depend on it, and the server starts without JAX
    proc, url, port = start("--host", "0.0.0.0", "--allow-host", "lab.example", "--engine", "numpy")
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
