"""The examples of the README and the docs pages, read from their Markdown, and how to run them.

Three kinds of fenced block hold examples:

- a ``text`` block of ``$ command`` lines, each followed by what it prints: the command runs
  and its output (stdout and stderr, as a terminal shows them) must match the page, with
  ``...`` standing for any lines and varying numbers (times, rates) masked on both sides;
- an ``sh`` block: every ``mlplab`` command in it runs and must succeed; ``make`` targets and
  ``pip install`` extras must exist in the Makefile and pyproject.toml;
- a ``python`` block: runs (the blocks of a page share one namespace, in order); when the next
  block is a ``text title="prints"`` block, what the code prints must match it.

A ``$ cat FILE`` line for a file that does not exist yet writes the lines shown to it: the page
shows the file a user would create.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# commands the pages show that the tests do not run here, and why
NOT_RUN = {
    "mlplab playground": "serves until stopped; tests/test_playground_cli.py starts and stops it",
    "--dask": "needs a running Dask cluster; tests/test_cli_sweep.py runs one (LocalCluster)",
    "dask ": "starts a Dask scheduler or worker",
    "jupyter lab": "opens a browser; tests/test_extras.py checks that `jupyter lab` starts",
    ".venv/bin/jupyter lab": "as above",
    "python3 -m venv": "creates a virtual environment",
    ".venv/bin/python benchmarks/": "a benchmark: minutes of timing, numbers of the machine",
    "python benchmarks/": "as above",
    "python examples/optuna_batched.py": "needs optuna; tests/test_batched_trials.py runs it",
}

# numbers that differ from run to run, masked in what a page shows and what the command prints
MASKS = [
    (re.compile(r"time \d+(\.\d+)? s"), "time <T> s"),
    (re.compile(r"\d+(\.\d+)? networks/s"), "<N> networks/s"),
    (re.compile(r"time +\d+(\.\d+)? s"), "time <T> s"),
]


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    title: str
    text: str


@dataclass(frozen=True)
class Command:
    """One ``$ command`` of a text block and the output the page shows for it."""

    block: Block
    command: str
    expected: str


def where(block: Block) -> str:
    return f"{block.page.relative_to(ROOT)}:{block.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, in order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, lang, rest = m.groups()
        title = re.search(r'title="([^"]*)"', rest)
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        found.append(Block(page, start + 1, lang, title.group(1) if title else "", "\n".join(body)))
        i += 1
    return found


def session_commands(block: Block) -> list[Command]:
    """The ``$ command`` lines of a text block, continuation lines joined, with their output."""
    commands: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        command = lines[i][2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        commands.append(Command(block, command, "\n".join(output)))
    return commands


def shell_lines(block: Block) -> list[str]:
    """The commands of an ``sh`` block: continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in block.text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1].strip() + " "
            continue
        line = (pending + line.strip()).strip()
        pending = ""
        words = shlex.split(line, comments=True)
        if words:
            joined.append(shlex.join(words))
    return joined


def not_run(command: str) -> str | None:
    """Why ``command`` is not run here, or ``None`` when it is (``--help`` always runs)."""
    command = re.sub(r"^(\w+=\S*\s+)+", "", command)  # OPENBLAS_NUM_THREADS=1 python ...
    if command.startswith("mlplab ") and "--help" in command.split():
        return None
    for part, reason in NOT_RUN.items():
        if command.startswith(part) or (part.startswith("--") and part in command.split()):
            return reason
    return None


def mask(text: str, command: str = "") -> str:
    """``text`` with varying numbers masked and trailing blanks dropped."""
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    if command.startswith("mlplab sweep") and "--json" not in command:
        lines = [re.sub(r"\s+\S+$", "", line) for line in lines]  # the seconds column
    return "\n".join(lines)


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected``, a line ``...`` standing for any lines (or none)."""
    parts = []
    for line in expected.splitlines():
        parts.append(r"(?:.*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n")
    return re.fullmatch("".join(parts), actual + "\n" if actual else "") is not None


def run_mlplab(command: str) -> tuple[int, str]:
    """Run ``mlplab ...`` in this process; the exit code and everything it printed."""
    from mlplab.cli import main

    words = shlex.split(command)
    assert words[0] == "mlplab", command
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(words[1:])
    return code, out.getvalue()


def run_python(code: str, namespace: dict) -> str:
    """Run a page's Python block in ``namespace``; what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<docs>", "exec"), namespace)
    return out.getvalue()
