"""Where a build finds private keys: the environment variables and folders (only the standard
library: the no-op stamp, :mod:`badgekiln.engine.stamp`, looks at them before anything slow loads)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_KEYS = "BADGEKILN_PRIVATE_KEYS"
ENV_KEYS_DIR = "BADGEKILN_KEYS_DIR"
ENV_SMTP_PASSWORD = "BADGEKILN_SMTP_PASSWORD"  # (read by mail.py; a secret the output scan looks for)


def keys_dir() -> Path:
    """Where private key files are kept."""
    configured = os.environ.get(ENV_KEYS_DIR)
    if configured:
        return Path(configured).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "badgekiln" / "keys"


def development_keys_dir() -> Path:
    """Where the user's development key pair is kept (one for every site on the machine)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "badgekiln" / "dev-keys"
