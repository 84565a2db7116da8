"""``python -m var_bench`` runs the ``var-bench`` command."""

from .cli import main

if __name__ == "__main__":
    main()
