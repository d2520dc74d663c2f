"""`mlplab playground`: its options, and the real command serving the page."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request

from conftest import require

from mlplab.cli import COMMANDS, main


def test_playground_is_a_command_with_host_port_and_open(capsys):
    assert COMMANDS["playground"] == "mlplab.cli.playground:playground"
    assert main(["playground", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--open", "127.0.0.1", "8000"):
        assert option in out
    assert main(["playground", "--port", "70000"]) == 2
    assert "70000 is not in the range" in capsys.readouterr().err


def test_the_command_prints_its_address_and_serves_the_page():
    require("uvicorn")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(
            r"mlplab playground: (http://127\.0\.0\.1:\d+/)  \(Ctrl-C to stop\)\n", line
        )
        assert match, line
        with urllib.request.urlopen(match.group(1), timeout=10) as response:
            page = response.read().decode()
        assert "<title>mlplab playground</title>" in page
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "stopped" in out


def test_open_points_a_browser_at_the_address(monkeypatch, capsys):
    require("uvicorn")
    opened = []

    def fake_open(url):  # then stop, as Ctrl-C would
        opened.append(url)
        raise KeyboardInterrupt

    monkeypatch.setattr("webbrowser.open", fake_open)
    assert main(["playground", "--port", "0", "--open"]) == 0
    out = capsys.readouterr().out
    assert len(opened) == 1 and re.fullmatch(r"http://127\.0\.0\.1:\d+/", opened[0])
    assert f"mlplab playground: {opened[0]}" in out and "stopped" in out


def test_a_busy_port_is_one_line_and_a_non_zero_exit():
    require("uvicorn")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "mlplab", "playground", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == (
        f"mlplab: error: port {port} on 127.0.0.1 is already in use: stop what holds it or "
        "choose another with --port (--port 0 picks a free one)\n"
    )


def test_allow_host_is_an_option(capsys):
    assert main(["playground", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--allow-host NAME" in out and "DNS-rebinding" in out
