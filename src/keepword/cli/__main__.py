"""``python -m keepword.cli``: the ``keepword`` command."""

from keepword.cli import main

main(prog_name="keepword")
