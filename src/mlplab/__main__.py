"""``python -m mlplab``: the command-line tool."""

from mlplab.cli import main

raise SystemExit(main())
