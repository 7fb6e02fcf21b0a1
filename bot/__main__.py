"""`python -m bot` is the `dibs` command."""

from bot.cli import main

main()
