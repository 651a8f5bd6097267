"""``python -m badgekiln``: the same command line as ``badgekiln`` (where the script is not on PATH)."""

from badgekiln.cli import run

if __name__ == "__main__":
    run()
