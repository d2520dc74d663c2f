"""Every command and code example in the README and the docs runs, and prints what the page shows.

How the pages are read: ``tests/doc_examples.py``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from doc_examples import (
    PAGES,
    ROOT,
    Block,
    Command,
    blocks,
    mask,
    matches,
    not_run,
    run_mlplab,
    run_python,
    session_commands,
    shell_lines,
    where,
)


def extras() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return set(tomllib.load(f)["project"]["optional-dependencies"])


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([\w-]+):", text, flags=re.M))


# options naming a file a command reads or writes; a command without them (and without a
# file argument: predict, export, replay) prints the same wherever and whenever it runs
FILE_OPTIONS = {"--plot", "--save", "--record", "--checkpoint", "--resume", "--data", "--out"}
NO_FILE_COMMANDS = {"train", "loo", "ensemble", "sweep", "explain"}


def touches_no_file(command: str) -> bool:
    """Whether ``mlplab ...`` names no file: its output depends on the command alone."""
    words = shlex.split(command)
    options = {w.split("=")[0] for w in words if w.startswith("--")}
    return len(words) > 1 and words[1] in NO_FILE_COMMANDS and not options & FILE_OPTIONS


def run_mlplab_once(command: str, ran: dict[str, tuple[int, str]]) -> tuple[int, str]:
    """``run_mlplab``; a command that touches no file and that another page (or block)
    already ran is not trained again: what it printed then is checked against this page."""
    if not touches_no_file(command):
        return run_mlplab(command)
    if command not in ran:
        ran[command] = run_mlplab(command)
    return ran[command]


def check_session(command: Command, ran: dict[str, tuple[int, str]]) -> str | None:
    """Run one ``$ command``; a description of the mismatch, or ``None``."""
    words = shlex.split(command.command)
    if not_run(command.command):
        return None
    if words[0] == "cat" and len(words) == 2:
        path = Path(words[1])
        if not path.exists():  # the page shows the file to create
            path.write_text(command.expected.strip("\n") + "\n", encoding="utf-8")
            return None
        code, out = 0, path.read_text(encoding="utf-8")
    elif words[0] == "python":
        done = subprocess.run(
            [sys.executable, *words[1:]], capture_output=True, text=True, timeout=120
        )
        code, out = done.returncode, done.stdout + done.stderr
    elif words[0] == "mlplab":
        code, out = run_mlplab_once(command.command, ran)
    else:
        return f"{where(command.block)}: no rule to run {command.command!r}"
    expected, actual = mask(command.expected, command.command), mask(out, command.command)
    shows_an_error = "error:" in command.expected  # a page may show a one-line error
    if (code != 0) != shows_an_error or not matches(expected, actual):
        return (
            f"{where(command.block)}: $ {command.command}\n(exit {code})\n--- the page shows\n"
            f"{expected}\n--- the command prints\n{actual}"
        )
    return None


def check_shell(block: Block, line: str, ran: dict[str, tuple[int, str]]) -> str | None:
    """Check one line of an ``sh`` block: run it, or check what it names exists."""
    if not_run(line):
        return None
    words = shlex.split(line)
    if words[0] == "make":
        missing = set(words[1:]) - make_targets()
        return f"{where(block)}: no make target {sorted(missing)}" if missing else None
    if "pip" in Path(words[0]).name and "install" in words:
        named = {e for w in words for e in re.findall(r"\[([\w,-]+)\]", w)}
        unknown = {e for group in named for e in group.split(",")} - extras()
        return f"{where(block)}: no extra {sorted(unknown)} in pyproject.toml" if unknown else None
    if words[0] == "mlplab":
        code, out = run_mlplab_once(line, ran)
        return None if code == 0 else f"{where(block)}: {line} exited {code}:\n{out}"
    return f"{where(block)}: no rule to run {line!r}"


def check_page(page: Path, ran: dict[str, tuple[int, str]]) -> tuple[list[str], int]:
    """Run every example on ``page``; the mismatches and the number of examples checked.

    ``ran``: what each file-free command printed, shared by the pages (``run_mlplab_once``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    failures: list[str] = []
    checked = 0
    namespace: dict = {"__name__": "__docs__"}
    found = blocks(page)
    for i, block in enumerate(found):
        if block.lang in ("text", "console") and block.text.startswith("$ "):
            for command in session_commands(block):
                failures.append(check_session(command, ran))
                checked += 1
        elif block.lang in ("sh", "bash", "shell"):
            for line in shell_lines(block):
                failures.append(check_shell(block, line, ran))
                checked += 1
        elif block.lang == "python":
            try:
                printed = run_python(block.text, namespace)
            except Exception as e:  # report it with the page's line, and check the rest
                failures.append(f"{where(block)}: the code raised {type(e).__name__}: {e}")
                continue
            shown = found[i + 1] if i + 1 < len(found) else None
            if (
                shown is not None
                and shown.title == "prints"
                and not matches(mask(shown.text), mask(printed))
            ):
                failures.append(
                    f"{where(block)}: the page shows\n{shown.text}\n--- the code prints\n{printed}"
                )
            checked += 1
    plt.close("all")
    return [f for f in failures if f], checked


@pytest.fixture(scope="module")
def ran() -> dict[str, tuple[int, str]]:
    """What each file-free ``mlplab`` command printed, run once for all the pages."""
    return {}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_example_runs_as_the_page_shows(page: Path, tmp_path, monkeypatch, ran):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # `from xor_model import predict`
    failures, _ = check_page(page, ran)
    assert not failures, "\n\n".join(failures)


def test_the_readme_and_the_guides_have_examples_to_check():
    counts = {}
    for page in PAGES:
        found = blocks(page)
        counts[page.name] = sum(
            len(session_commands(b)) if b.text.startswith("$ ") else 1
            for b in found
            if b.lang in ("text", "python", "sh")
        )
    for name in ("README.md", "cli.md", "quickstart.md", "training.md", "experiments.md"):
        assert counts[name] >= 3, (name, counts[name])


def test_the_masks_hide_times_and_nothing_else():
    shown = "final loss 2.1928e-05   time 1.01 s\ntime              5.41 s (185 networks/s)"
    printed = "final loss 2.1928e-05   time 1.34 s\ntime              6.02 s (166 networks/s)"
    assert matches(mask(shown), mask(printed))
    assert not matches(mask(shown), mask(printed.replace("2.1928e-05", "2.1929e-05")))
    assert matches("a\n...\nd", "a\nb\nc\nd") and matches("a\n...\nd", "a\nd")
    assert not matches("a\n...\nd", "a\nb\nc")


def test_pages_are_read_as_a_user_reads_them(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```text\n$ mlplab train --hidden 8 \\\n    --epochs 10\nout 1\n\nout 2\n"
        "$ mlplab replay r.json\nidentical\n```\n\n"
        "```sh\nmake demo   # a comment\nmlplab train \\\n  --quiet\n```\n",
        encoding="utf-8",
    )
    text, sh = blocks(page)
    assert (text.lang, text.line, sh.lang, sh.line) == ("text", 1, "sh", 11)
    commands = session_commands(text)
    assert [c.command for c in commands] == [
        "mlplab train --hidden 8 --epochs 10",
        "mlplab replay r.json",
    ]
    assert commands[0].expected == "out 1\n\nout 2" and commands[1].expected == "identical"
    assert shell_lines(sh) == ["make demo", "mlplab train --quiet"]
    assert not_run("mlplab playground") and not_run("mlplab playground --help") is None
    assert not_run("OPENBLAS_NUM_THREADS=1 python benchmarks/seed_loop.py")
    assert not_run("mlplab sweep --hidden 2 --dask tcp://h:1") and not_run("mlplab train") is None


def test_only_commands_that_name_no_file_are_run_once_for_all_the_pages():
    assert touches_no_file("mlplab train --hidden 4,4")
    assert touches_no_file("mlplab ensemble --nets 200 --hidden 2 --epochs 20000")
    for command in (
        "mlplab train --plot loss.png",
        "mlplab train --data=pets.csv --target kind",
        "mlplab train --epochs 3000 -q --record run.json",
        "mlplab sweep --hidden 2,3 --out cells.csv",
        "mlplab predict xor.st --input 0,0,1",
        "mlplab replay run.json",
        "mlplab --help",
    ):
        assert not touches_no_file(command), command
    ran: dict[str, tuple[int, str]] = {"mlplab train": (0, "shown before")}
    assert run_mlplab_once("mlplab train", ran) == (0, "shown before")
    assert run_mlplab_once("mlplab train --holdout 4", ran)[0] != 0  # run, then kept
    assert set(ran) == {"mlplab train", "mlplab train --holdout 4"}
