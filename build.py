"""Build this badge site: ``python build.py`` == ``badgekiln build`` (see README.md)."""

import sys

from badgekiln.cli import run

run(["build", *sys.argv[1:]])
