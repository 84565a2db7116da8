"""``python -m var_bench`` runs the ``var-bench`` command."""

from var_bench.cli import main

if __name__ == "__main__":
    main()
