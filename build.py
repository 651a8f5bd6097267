"""Build this badge site: ``python build.py`` == ``badgekiln build`` (see README.md)."""

import sys

from badgekiln.cli import main

main(["build", *sys.argv[1:]])
