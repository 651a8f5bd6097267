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

from badgekiln.errors import ConfigError, Diagnostic, SourceLocation, ValidationFailed
from badgekiln.formats import endorsements
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.models import Endorsing
from badgekiln.outputs.endorsements import signed_credential
from badgekiln.signing.signer import open_signer
from badgekiln.sources.endorsements import GIVING_FOLDER, MAX_COMMENT
from badgekiln.sources.fields import SLUG_RE
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
    if not target.startswith(("https://", "did:web:")) or any(c.isspace() for c in target):
        raise ConfigError(
            f"--target {target!r} is not an https URL or a did:web (the badge class's badge.json URL, "
            "or the issuer's profile URL or DID)"
        )
    comment = comment.strip()
    if not comment or len(comment) > MAX_COMMENT:
        raise ConfigError(f"--comment must be 1 to {MAX_COMMENT} characters")
    slug = slug or slug_for(target)
    if not SLUG_RE.match(slug):
        raise ConfigError(f"--name {slug!r} is not a valid slug (a-z, 0-9 and '-')")
    record = source / GIVING_FOLDER / f"{slug}.yaml"
    if record.exists():
        raise ConfigError(f"{record.relative_to(source).as_posix()} exists already; choose another --name")
    loaded = load_project(source, today=today)  # the site must validate before it signs anything
    diagnostics: list[Diagnostic] = []
    signer = open_signer(source, None, today=today, production=True, diagnostics=diagnostics)
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    endorsing = Endorsing(
        slug=slug,
        target=target,
        comment=comment,
        issued_on=on,
        location=SourceLocation(record.relative_to(source).as_posix()),
    )
    signed = signed_credential(loaded.config, signer, endorsing)
    record.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        record,
        "# An endorsement this site gives (badgekiln endorse); published, signed, by every "
        "build.\n"
        + yaml.safe_dump(
            {"target": target, "comment": comment, "issued_on": on}, sort_keys=False, allow_unicode=True, width=100
        ),
    )
    if out is not None:
        out.write_bytes(dumps_hosted(signed))
    config = loaded.config
    return Endorsed(
        record=record,
        out=out,
        credential_url=config.url(endorsements.given_credential_json(slug)),
        did_document_url=config.url(config.did_document_path),
    )
