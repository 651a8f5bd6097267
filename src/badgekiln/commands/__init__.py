"""One module per command-line verb. Each calls library functions and returns a result; only
:mod:`badgekiln.cli` prints and exits."""
