"""The ``mlplab`` command line: a click group whose commands live one per module.

``main(argv)`` returns an exit code instead of exiting, so tests can call it.
Errors a user can cause (bad options, bad files, diverging training) print one
line to stderr and exit non-zero; they never show a traceback. Commands are
imported only when run, so ``mlplab train`` does not pay for plotting or the web stack.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

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
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort as e:  # click's word for Ctrl-C; a checkpointed run says what it kept
        cause = str(e.__cause__) if isinstance(e.__cause__, KeyboardInterrupt) else ""
        click.echo(f"Interrupted: {cause}" if cause else "Aborted.", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except MlplabError as e:
        click.echo(f"mlplab: error: {e}", err=True)
        return 1
    except KeyboardInterrupt as e:
        click.echo(f"Interrupted: {e}" if str(e) else "Interrupted.", err=True)
        return 130
    return code if isinstance(code, int) else 0  # a command's `raise click.exceptions.Exit(n)`
