"""`python -m bot.cli`: the `dibs` command."""

from bot.cli import main

main()
