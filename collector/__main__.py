"""`python -m collector`: the command line (collector/cli.py)."""

from collector.cli import main

raise SystemExit(main())
