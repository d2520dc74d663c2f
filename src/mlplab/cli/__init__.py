"""The ``mlplab`` command line: a click group whose commands live one per module.

``main(argv)`` returns an exit code instead of exiting, so tests can call it.
Errors a user can cause (bad options, bad files, diverging training) print one
line to stderr and exit non-zero; they never show a traceback. Commands are
imported only when run, so ``mlplab train`` does not pay for plotting or the web stack.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence

import click

from mlplab.checks import printable, shortened
from mlplab.errors import MlplabError

__all__ = ["COMMANDS", "main"]

# command name -> "module:attribute", imported on first use
COMMANDS: dict[str, str] = {
    "train": "mlplab.cli.train:train",
    "predict": "mlplab.cli.predict:predict",
    "loo": "mlplab.cli.loo:loo",
    "playground": "mlplab.cli.playground:playground",
    "export": "mlplab.cli.export:export",
    "replay": "mlplab.cli.replay:replay",
    "ensemble": "mlplab.cli.ensemble:ensemble",
    "sweep": "mlplab.cli.sweep:sweep",
    "explain": "mlplab.cli.explain:explain",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's lookup; an unknown command gets the suggestion an unknown option gets."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as e:
            close = difflib.get_close_matches(args[0], COMMANDS) if args else []
            if not close or e.ctx is None:
                raise
            names = ", ".join(repr(name) for name in close)
            hint = f"Did you mean {names}?" if len(close) == 1 else f"Did you mean one of: {names}?"
            raise click.UsageError(f"{e.message} ({hint})", e.ctx) from None


@click.group(cls=LazyGroup)
@click.version_option(package_name="mlplab")
def cli() -> None:
    """mlplab: the 11-line XOR network as a library and a lab.

    Start with `mlplab train`: the seed's network learning XOR.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="mlplab", standalone_mode=False)
        sys.stdout.flush()  # a full disk or a closed pipe fails here, not at exit
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort as e:  # click's word for Ctrl-C; a checkpointed run says what it kept
        cause = str(e.__cause__) if isinstance(e.__cause__, KeyboardInterrupt) else ""
        click.echo(f"Interrupted: {cause}" if cause else "Aborted.", err=True)
        return 130
    except click.ClickException as e:
        e.message = printable(shortened(e.message))  # the value given, cut and escaped
        e.show()
        return e.exit_code
    except MlplabError as e:
        click.echo(f"mlplab: error: {printable(shortened(str(e)))}", err=True)
        return 1
    except OSError as e:  # stdout failed: a full disk (> /dev/full), a closed pipe
        return _output_failed(e)
    except MemoryError:  # past every estimate made before allocating
        click.echo("mlplab: error: out of memory; use smaller layers, fewer networks, fewer "
                   "examples or fewer epochs", err=True)  # fmt: skip
        return 1
    except KeyboardInterrupt as e:
        click.echo(f"Interrupted: {e}" if str(e) else "Interrupted.", err=True)
        return 130
    return code if isinstance(code, int) else 0  # a command's `raise click.exceptions.Exit(n)`


def _output_failed(e: OSError) -> int:
    """One line on stderr; stdout pointed at /dev/null so the exit's flush cannot fail too."""
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError):  # ValueError: no real stdout (a test's)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    with contextlib.suppress(OSError):
        click.echo(f"mlplab: error: cannot write the output: {e.strerror or e}", err=True)
    return 1
