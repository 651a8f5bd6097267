"""``badgekiln endorse``: this site endorses another issuer or badge class.

The endorsement is recorded in ``site_src/endorsing/<slug>.yaml`` (so every build republishes it,
signed, under ``endorsements/given/<slug>/``), and with ``--out`` the signed EndorsementCredential
is also written to a file to send to the endorsed site.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from badgekiln.errors import ConfigError, Diagnostic, SourceError, SourceLocation, ValidationFailed
from badgekiln.formats import endorsements
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.outputs.endorsements import signed_credential
from badgekiln.signing.signer import open_signer
from badgekiln.sources import safefiles
from badgekiln.sources.endorsements import GIVING_FOLDER, check_giving
from badgekiln.sources.fields import SLUG_RE
from badgekiln.sources.loading import parse_yaml
from badgekiln.sources.records import atomic_write_text
from badgekiln.sources.validate import load_project


@dataclass(frozen=True)
class Endorsed:
    """What ``endorse`` did."""

    record: Path  # site_src/endorsing/<slug>.yaml
    out: Path | None  # the signed credential, if asked for
    credential_url: str  # where the site publishes it
    did_document_url: str  # what the endorsed site pins


def slug_for(target: str) -> str:
    """A file name for an endorsement of ``target``: its host and path, made a slug."""
    parts = urllib.parse.urlsplit(target)
    text = f"{parts.netloc}-{parts.path}" if parts.netloc else target.removeprefix("did:web:")
    text = re.sub(r"\.json$|/badge\.json$|/achievement\.json$|/index\.html$", "", text.lower())
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:64].rstrip("-") or "endorsement"


def endorse(
    source: Path, *, target: str, comment: str, on: date, today: date, slug: str | None = None, out: Path | None = None
) -> Endorsed:
    """Record (and with ``out``, sign and write) an endorsement of ``target`` by this site.

    Raises:
        ConfigError: Not a site, a bad target, comment or name, or the record exists already.
        ValidationFailed: The site does not validate, or its own keys are missing (an endorsement
            sent to another site must be signed by a key the site publishes).
    """
    if not (source / "site_src" / "site.yaml").is_file():
        raise ConfigError(
            f"{source} is not a badge site (no site_src/site.yaml): run this in your site's folder or pass --source"
        )
    slug = slug or slug_for(target)
    if not SLUG_RE.match(slug):
        raise ConfigError(f"--name {slug!r} is not a valid slug (a-z, 0-9 and '-')")
    if slug == "readme":  # (a folder's README is not read as a record: the build would never publish it)
        raise ConfigError(
            "--name readme is the name of a folder's notes, which the build does not read; choose another"
        )
    if on > today:  # (the endorsed site would leave it out, with a warning, until that day)
        raise ConfigError(
            f"--on {on.isoformat()} is after today ({today.isoformat()}): date an endorsement when it is given"
        )
    if out is not None and not out.parent.is_dir():  # (checked before the record is written)
        raise ConfigError(f"--out {out}: there is no folder {out.parent}")
    if out is not None and out.is_dir() and not out.is_symlink():  # (never replaced: it would be removed)
        raise ConfigError(f"--out {out} is a folder: name the file to write")
    if out is not None and out.is_symlink():  # (a link planted in a repository: its target would be overwritten)
        raise ConfigError(
            f"--out {out} is a symbolic link: badgekiln does not write through links; remove it or choose another file"
        )
    record = source / GIVING_FOLDER / f"{slug}.yaml"
    rel = record.relative_to(source).as_posix()
    text = (
        "# An endorsement this site gives (badgekiln endorse); published, signed, by every build.\n"
        + yaml.safe_dump(
            {"target": target.strip(), "comment": comment.strip(), "issued_on": on},
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )
    )
    # The record as the next build reads it, checked as the build checks it, before anything is signed or written.
    problems: list[Diagnostic] = []
    try:
        endorsing = check_giving(slug, parse_yaml(text, rel), SourceLocation(rel), problems, options=True)
    except SourceError as e:
        endorsing, problems = None, [e.diagnostic]
    if endorsing is None:
        raise ConfigError(
            "the endorsement is refused, as the build would refuse its record: "
            + "; ".join(d.message for d in problems)
        )
    if record.exists():
        raise ConfigError(f"{record.relative_to(source).as_posix()} exists already; choose another --name")
    loaded = load_project(source, today=today)  # the site must validate before it signs anything
    diagnostics: list[Diagnostic] = []
    signer = open_signer(source, None, today=today, production=True, diagnostics=diagnostics)
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    signed = signed_credential(loaded.config, signer, endorsing)
    if out is not None:  # (first, and in one step: a file that cannot be written leaves no record)
        if out.absolute() == record.absolute() or out.resolve() == record.resolve():
            raise ConfigError(f"--out {out} is the endorsement's own record: write the credential elsewhere")
        try:
            safefiles.replace_file(out.parent, out.name, dumps_hosted(signed))
        except OSError as e:
            raise ConfigError(f"--out {out}: could not write it ({e.strerror or e}); nothing was recorded") from None
    record.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(record, text)
    config = loaded.config
    return Endorsed(
        record=record,
        out=out,
        credential_url=config.url(endorsements.given_credential_json(slug)),
        did_document_url=config.url(config.did_document_path),
    )
