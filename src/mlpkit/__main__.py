"""``python -m mlpkit``: the command line, where no console script is installed."""

from mlpkit.cli import main

main()
