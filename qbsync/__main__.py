"""`python -m qbsync`: the same command line as the `qbsync` script (where the script is not on
PATH, or to pick the interpreter)."""

from qbsync.cli.app import main

if __name__ == "__main__":
    main()
