"""`python -m duban.cli …`, the same as the `duban` command."""

from duban.cli.main import main

main()
