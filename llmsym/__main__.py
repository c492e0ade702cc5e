"""``python -m llmsym``: the same command line as ``llmsym``."""

from .cli import main

main(prog_name="llmsym")
