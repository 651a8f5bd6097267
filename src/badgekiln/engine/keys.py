"""The cache key of every unit of the build: a digest of exactly the inputs the unit reads.

Each name in :data:`badgekiln.outputs.READS` is computed here once per build (site-wide), per
badge class or per award, and a unit's key is the SHA-256 of its name, badgekiln's code, the
unit registry (:func:`registry_digest`: units may come from outside the package), the build's
secrets (:func:`secrets_digest`: reused files were scanned for the secrets of the build that
made them) and the parts its ``reads`` name. Never file times. Deliberately generous within a
part: whatever might matter to it is in it (a change only costs a rebuild).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from badgekiln import models
from badgekiln.engine import awardtext, views
from badgekiln.engine.cache import (
    _file_sha,
    _sha,
    code_fingerprint,
    digest,
    statuses_text,
)
from badgekiln.outputs import PAGE_TEMPLATES, BuildInputs, Unit, units
from badgekiln.pages import context
from badgekiln.signing.secretscan import Secret
from badgekiln.sources import ledger as ledger_mod
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree

# scrypt parameters of the secrets' digest (RFC 7914; n=2**14, r=8 is the interactive-login
# setting): the digest lands in .badgekiln/cache/state.json, and must not make guessing a weak
# SMTP password cheap. The salt is fixed so that the same secrets give the same keys.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCRYPT_SALT = b"badgekiln unit keys: secrets v1"


class UnitKeys:
    """Keys of one build's units."""

    def __init__(
        self,
        inputs: BuildInputs,
        renderer: Any,
        statuses: Callable[[str, models.Recipient], str | None] | None = None,
        identity: Callable[[str, models.Recipient], str | None] | None = None,
    ):
        """``statuses``, ``identity``: the cache's
        :meth:`~badgekiln.engine.cache.BuildCache.source_statuses` and
        :meth:`~badgekiln.engine.cache.BuildCache.source_identity` (None: no cache)."""
        config, project, signer = inputs.config, inputs.project, inputs.signer
        self.inputs = inputs
        self._statuses, self._identity = statuses, identity
        development = signer.development
        self._site: dict[str, Any] = {}
        self._site_parts: dict[str, Callable[[], str]] = {
            # (the reminders' settings are notify's alone: no published file shows them)
            "config": lambda: digest(dataclasses.replace(config, remind_before=(), notify_revocations=True)),
            # What only pages show or notify reads (the site's title and language, the look of the
            # pages, the certificates' signatory, the LinkedIn organisation, the reminders) is not
            # part of any signed document: a new title or signatory signed every award again.
            "documents-config": lambda: digest(
                dataclasses.replace(
                    config,
                    title="",
                    language="",
                    stylesheet=None,
                    accent_color="",
                    footer="",
                    signatory=None,
                    linkedin_organization_id=None,
                    remind_before=(),
                    notify_revocations=True,
                )
            ),
            # Which key signs an award follows from the records, the ledger entry and which private
            # keys are at hand (development keys stand in for missing ones).
            "signing": lambda: digest(
                signer.keyring.records,
                sorted(signer.keyring.private),
                development.records if development else None,
                sorted(development.private) if development else None,
            ),
            # (what the preview banner of a page says: a key rotated or retired remakes no page but an award's)
            "development-keys": lambda: digest(development is not None),
            "templates": lambda: digest(renderer.template_sources()),
            **{
                name: functools.partial(lambda roots: digest(renderer.template_sources_of(roots)), roots)
                for name, roots in PAGE_TEMPLATES.items()
            },
            # (share_cards.py: what a card and its class's base are drawn with; not the footer, the stylesheet)
            "card-config": lambda: digest(config.issuer.name, config.base_url, config.accent_color, config.language),
            "site": lambda: digest(context.site_context(config, project)),
            "awards": self._awards,
            "catalogue": self._catalogue,
            "assets": lambda: digest(
                sorted(
                    (name, _file_sha(inputs.source, SourceTree.asset(name)))
                    for name, entry in safefiles.walk(inputs.source, SourceTree.ASSETS)
                    if entry.kind == "file"
                )
            ),
            "endorsements": lambda: digest(project.endorsements, project.endorsing),
            "portfolios": lambda: digest(
                [self._earner(r) for r in project.recipients if r.portfolio], sorted(self._badges.items())
            ),
        }
        self._earners: dict[str, str] = {}
        self._day = inputs.today.isoformat()
        # The recipient award_parts read last, its rows and its awards' digests (see recipient_rows)
        self._rows_of: models.Recipient | None = None
        self._rows: list[models.AwardRow] = []
        self._pairs: list[tuple[str, str]] = []
        self._entry_texts_made = 0  # (ledger entries made into text one by one: see _ledger_text_of)
        # The awards whose ledger lines follow the part of the ledger found as the last build left
        # it (see covers); None: no such part was found.
        self._after_kept: frozenset[str] | None = None
        self._award_site: dict[str, str] = {}  # the site-wide parts award units read (in every award's parts)
        self._badges = {  # (a class's reminders and renewal address are notify's alone: no published file shows them)
            slug: digest(
                dataclasses.replace(badge, remind_before=None, renewal_url=None),
                _file_sha(inputs.source, SourceTree.image(badge.image)),
            )
            for slug, badge in project.badges.items()
        }
        # Everything that shapes every unit's bytes: the code, the units themselves, and what the
        # output scan looked for when the files were made.
        self._code = _sha(code_fingerprint(), registry_digest(units()), secrets_digest(inputs.signer.secret_material()))

    def site_part(self, name: str) -> str:
        """A site-wide part, computed once."""
        if name not in self._site:
            self._site[name] = self._site_parts[name]()
        part: str = self._site[name]
        return part

    @functools.cached_property
    def _ledger_texts(self) -> dict[str, str]:
        """Every award's ledger entry as text (:func:`_ledger_text`), made once when many bundle
        keys are computed (a clean build); a rebuild that computes a few makes only theirs
        (:meth:`_ledger_text_of`: the whole dict was 0.09 s of a rebuild at 100,000 awards)."""
        return _ledger_texts(self.inputs.ledger.entries)

    def _ledger_text_of(self, award_id: str) -> str:
        """One award's ledger entry as text (:func:`_ledger_text`); KeyError when it has none."""
        texts: dict[str, str] | None = self.__dict__.get("_ledger_texts")
        if texts is not None:
            return texts[award_id]
        self._entry_texts_made += 1
        if self._entry_texts_made > _FEW_ENTRY_TEXTS:  # (many keys to compute: every text at once)
            return self._ledger_texts[award_id]
        return _ledger_text(self.inputs.ledger.entries[award_id])

    def _awards(self) -> str:
        """Every award's ledger entry, issue date, revocation and suspension.

        The SHA-256 of the ledger's text (its entries, a line each, in index order: the text is
        made from the entries alone, and hashed for :attr:`bundle_context` in the same pass; the
        entries made into text again were 0.1 s of a rebuild at 100,000 awards); then each
        recipient's awards, a line each (:func:`~badgekiln.engine.cache.statuses_text`), or, for a
        recipient whose model is the one its validated record made, the digest of those lines kept
        in that record (:meth:`~badgekiln.engine.cache.BuildCache.source_statuses`): made when the
        file was validated, so a rebuild makes no line for an unchanged file (the 100,000 lines
        were 0.5 s of a rebuild). Not a recipient model that ``site_src/members.csv`` or a CPD log
        changed: its lines are made."""
        lines = [f"ledger {self._ledger_digest(None)[1]}"]
        for recipient in self.inputs.project.recipients:
            where = recipient.location.path if recipient.location is not None else None
            kept = self._statuses(where, recipient) if self._statuses is not None and where else None
            lines.append(f"file {kept}" if kept is not None else statuses_text((recipient,)))
        return _sha("\n".join(lines))

    def _catalogue(self) -> str:
        project = self.inputs.project
        counts = models.held_counts(project.award_rows)  # (what outputs/site_pages.py shows)
        return digest(project.pages, sorted(self._badges.items()), sorted(counts.items()))

    def site(self, unit: Unit) -> str:
        """The key of a site-wide unit."""
        return _sha(unit.name, self._code, *[self.site_part(name) for name in unit.reads])

    def badge(self, unit: Unit, badge: models.BadgeClass) -> str:
        """The key of a per-badge unit."""
        return _sha(
            unit.name,
            self._code,
            *[self._badge_part(name, badge) for name in unit.reads],
        )

    def _badge_part(self, name: str, badge: models.BadgeClass) -> str:
        if name == "badge":
            return self._badges[badge.slug]
        if name == "pathway":  # the component badges a stacked badge's pages show
            components = badge.requires.of if badge.requires else ()
            return digest([(slug, self._badges.get(slug)) for slug in components])
        return self.site_part(name)

    def _earner(self, recipient: models.Recipient) -> str:
        """Every award of an earner with its status today, their CPD log and portfolio (once per earner).

        For a recipient whose model is the one its validated record made, the record's identity
        (which stands for all of that: see :meth:`bundle`) and each award's status today, from its
        rows: no award's model is made (every opted-in earner's is read for the portfolios' key)."""
        if recipient.slug not in self._earners:
            today = self.inputs.today
            where = recipient.location.path if recipient.location is not None else None
            record = self._identity(where, recipient) if self._identity is not None and where else None
            if record is not None:
                day = today.isoformat()
                self._earners[recipient.slug] = _sha(
                    "record", record, *[models.row_page_status(row, day) for row in recipient.rows]
                )
                return self._earners[recipient.slug]
            self._earners[recipient.slug] = _sha(
                awardtext.person_text(recipient),
                repr((recipient.portfolio, recipient.handle, recipient.cpd)),
                *[awardtext.fields_text(a) + a.page_status(today) for a in recipient.awards],
            )
        return self._earners[recipient.slug]

    def recipient_rows(self, recipient: models.Recipient) -> list[models.AwardRow]:
        """``recipient``'s rows, kept with its awards' digests for :meth:`award_parts` (a plain
        model makes its rows and digests on each call; a recipient's awards are keyed in a row)."""
        rows = recipient.rows
        self._rows_of, self._rows = recipient, rows
        self._pairs = awardtext.pairs(views.award_digests(recipient), rows)
        return rows

    def award_parts(self, recipient: models.Recipient, index: int) -> dict[str, str]:
        """The per-award parts of the award ``index`` of ``recipient`` (made once for all of an
        award's units: there are many awards), with the site-wide parts that award units read (see
        :meth:`award`). Read from the award's row and the digests of its texts
        (:func:`badgekiln.engine.views.award_digests`), never its model: a recipient the cache
        handed back is not decoded here (the workers that make its groups decode it)."""
        if recipient is not self._rows_of:
            self.recipient_rows(recipient)
        row = self._rows[index]
        written, issued = self._pairs[index]
        award_id, slug = row[models.ROW_ID], row[models.ROW_BADGE]
        entry = _ledger_text(self.inputs.ledger.entries[award_id])
        badge = self.inputs.project.badges[slug]
        parts = dict(self._award_site)
        parts["award"] = f"{written} {entry}"
        parts["award-as-issued"] = f"{issued} {entry}"
        parts["badge"] = self._badges[slug]
        parts["status"] = models.row_page_status(row, self._day)
        parts["renewals"] = context.renewal_part(self.inputs.project, row)
        # (only an award of a stacked badge shows its earner's other awards: its components)
        parts["earner"] = self._earner(recipient) + self._badge_part("pathway", badge) if badge.requires else ""
        return parts

    # The parts of an award's units that come from its own recipient file (or its status and ledger
    # entry, which the bundle key holds): every other part they read is the same for every award.
    AWARD_OWN = frozenset(("award", "award-as-issued", "badge", "status", "renewals", "earner"))

    def bundle(self, recipient: models.Recipient, record: str) -> str:
        """The key of the groups of ``recipient``'s awards, kept together (see
        :meth:`badgekiln.engine.cache.BuildCache.keep_bundle`), from ``record``: the identity of the
        validated record of the recipient's file, which the recipient model is made from.

        It covers what each of those groups' keys covers (:meth:`award_parts`): the recipient and
        its awards (the record: every award of an earner, its renewals and CPD log come from its
        file), each award's status today and ledger entry, its badge class and, for a stacked
        badge, the classes it requires (its pathway), and the site-wide parts that award units
        read, with the code and the units. Only the classes of the recipient's own awards: a class
        edited opens the bundles of its earners alone (every class in every key opened all
        27,000 bundles of a 100,000-award site: 18.8 s and 1.55 GB to edit one description).
        Computed without a model's text: per award, only its status, ledger entry and class, from
        the recipient's :attr:`~badgekiln.models.Recipient.rows` (a recipient the cache handed back
        gives them without making its awards' models).
        """
        day, text, status, classes = (
            self.inputs.today.isoformat(),
            self._ledger_text_of,
            models.row_page_status,
            self._classes,
        )
        return _sha(
            self._bundle_site_part,
            record,
            *[
                status(row, day) + text(row[models.ROW_ID]) + classes.get(row[models.ROW_BADGE], " ?")
                for row in recipient.rows
            ],
        )

    @functools.cached_property
    def _bundle_site_part(self) -> str:
        """What every bundle key holds (see :meth:`bundle`): the site-wide parts award units read, the code and the units."""
        names = sorted({name for unit in units() if unit.scope == "award" for name in unit.reads} - self.AWARD_OWN)
        return _sha("bundle v2", self._code, *[self.site_part(n) for n in names])

    @functools.cached_property
    def bundle_context(self) -> list[Any]:
        """What every bundle key of this build holds but its recipient's record and rows (see
        :meth:`bundle`): the digest of the site-wide parts, the day and every badge class's part;
        then the length and SHA-256 of the ledger's text, which holds each row's entry."""
        return [self._bundle_shared, *self._ledger_digest(None)[:2]]

    @functools.cached_property
    def _bundle_shared(self) -> str:
        return _sha(
            "bundle context v1",
            self._bundle_site_part,
            self.inputs.today.isoformat(),
            *[f"{slug}{part}" for slug, part in sorted(self._classes.items())],
        )

    def same_bundle_context(self, before: list[Any] | None) -> bool:
        """Whether the bundle key of a recipient file is the one the build that kept ``before`` (its
        :attr:`bundle_context`) computed, when the file's record is the one that build used
        (:meth:`badgekiln.engine.cache.BuildCache.kept_bundle_key`): the same site-wide parts, day
        and classes, and a ledger whose text begins with that build's ledger's text. Then every
        entry of that build's ledger is as it was (the text is its entries, a line each, in order;
        a new award only adds a line at the end), and so is every row's status (a status follows
        from the record and the day), its entry and its class: all the key holds."""
        if before is None:
            return False
        shared, length, sha = before
        if shared != self._bundle_shared:  # (another day, a class edited: the ledger is not even hashed)
            return False
        return bool(self._ledger_digest(length)[2] == sha)

    def covers(self, recipient: models.Recipient) -> bool:
        """Whether every award of ``recipient`` has its ledger entry in the part of the ledger that
        :meth:`same_bundle_context` found as the last build left it. A length stored by a build
        is its whole ledger, which held every award of a file it validated; a shorter one (a
        forged or damaged state.json, with the digest of that much of the ledger) must not vouch
        for entries after it (a review swapped two indexes past such a length: stale credentials).

        Every award has its entry in the ledger (:func:`badgekiln.sources.ledger.reconcile` gives
        each new one its line, at the end): an award not named after that part is within it. One
        look-up in a set of the few names after it, not the award's entry read (0.06 s of a
        rebuild at 100,000 awards)."""
        after = self._after_kept
        if after is None:
            return False
        return not any(row[models.ROW_ID] in after for row in recipient.rows)

    def _ledger_digest(self, prefix: int | None) -> tuple[int, str, str | None]:
        """The length and SHA-256 of the ledger's text (as UTF-8), and the SHA-256 of its first
        ``prefix`` bytes (None when it is shorter, when they do not end at the end of a line, or
        when not asked), in one pass over the text. The bytes are not kept (84 MB at a million
        awards, held through the make, and a slice of them copied them once more): only the two
        digests are, for :attr:`bundle_context` and the "awards" part.

        (A length from a state.json that ends inside a line, or inside the header every ledger's
        text begins with, is no build's: taken, a later change to the rest of that line, or to
        any line, would pass for lines added at the end. A ledger of no entries is its header.)"""
        known: tuple[int, str, str | None] | None = self.__dict__.get("_ledger_digests")
        if known is not None and prefix is None:
            return known
        data = self.inputs.ledger.to_text().encode("utf-8", "surrogatepass")
        text = memoryview(data)
        fits = prefix is not None and _HEADER_BYTES <= prefix <= len(text) and text[prefix - 1] == 0x0A
        hasher = hashlib.sha256(text[:prefix] if fits else text)
        head = hasher.hexdigest() if fits else None
        if fits and prefix is not None:
            hasher.update(text[prefix:])
            # The awards of the lines after those bytes (each line begins with its award's id): a
            # bundle key is taken only for a file none of whose awards they name (see covers).
            self._after_kept = frozenset(
                line.partition(b"\t")[0].decode("utf-8", "surrogatepass") for line in data[prefix:].split(b"\n") if line
            )
        found = (len(text), hasher.hexdigest(), head)
        self.__dict__["_ledger_digests"] = (found[0], found[1], None)
        return found

    @functools.cached_property
    def _classes(self) -> dict[str, str]:
        """Each badge class's part of a bundle key (see :meth:`bundle`): its digest, and for a
        stacked badge the digest of its pathway, as :meth:`award_parts` reads them."""
        project = self.inputs.project
        return {
            slug: f" {part} {self._badge_part('pathway', project.badges[slug]) if project.badges[slug].requires else ''}"
            for slug, part in self._badges.items()
        }

    def award(self, unit: Unit, parts: dict[str, str]) -> str:
        """The key of a per-award unit, from :meth:`award_parts`."""
        try:
            texts = [parts[name] for name in unit.reads]
        except KeyError:  # a site-wide part no award unit read before: kept for the next awards' parts
            for name in unit.reads:
                if name not in parts:
                    parts[name] = self._award_site[name] = self.site_part(name)
            texts = [parts[name] for name in unit.reads]
        return _sha(unit.name, self._code, *texts)


def registry_digest(registered: Iterable[Unit]) -> str:
    """A digest of the unit registry: each unit's name, scope, files, reads, ``cached`` flag and the
    code of its ``produce`` (the source of its module). badgekiln's own modules are in the code
    fingerprint already; this covers units added with :func:`badgekiln.outputs.register` or from
    an extended ``outputs.__path__``, and pages that list every unit's links (``award-page``)."""
    return digest(
        [
            [
                unit.name,
                unit.scope,
                [dataclasses.astuple(spec) for spec in unit.files],
                list(unit.reads),
                unit.cached,
                _code_text(unit.produce),
            ]
            for unit in registered
        ]
    )


def _code_text(function: Callable[..., Any]) -> str:
    """The source of the module ``function`` comes from, or failing that its compiled code."""
    target = inspect.unwrap(getattr(function, "func", function))  # (a functools.partial: its function)
    try:
        path = inspect.getsourcefile(target)
        if path:
            return Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except (TypeError, OSError):
        pass
    code = getattr(target, "__code__", None)
    if code is None:
        return repr(target)
    return hashlib.sha256(code.co_code).hexdigest() + repr(_constants(code))


def _constants(code: Any) -> list[Any]:
    """``co_consts`` of ``code``, nested functions' code included."""
    return [
        [hashlib.sha256(c.co_code).hexdigest(), _constants(c)] if inspect.iscode(c) else repr(c) for c in code.co_consts
    ]


def secrets_digest(secrets: Iterable[Secret]) -> str:
    """A digest of the build's secret material (the private keys' numbers, the keys in
    ``BADGEKILN_PRIVATE_KEYS``, the SMTP password), kept in ``.badgekiln/cache/state.json`` (as
    part of every key), so it must not make guessing a secret cheap.

    Key numbers (``binary``) are hundreds of random bits: no guess gets near them, so SHA-256
    does for them. A text (a password) may be weak: it goes through scrypt, which makes each guess
    cost about 0.1 s; a build without one (the usual case) pays no scrypt at all.
    """
    ordered = sorted(secrets, key=lambda s: (s.binary, s.value))
    keys = b"".join(len(s.value).to_bytes(4, "big") + s.value for s in ordered if s.binary)
    texts = b"".join(len(s.value).to_bytes(4, "big") + s.value for s in ordered if not s.binary)
    stretched = (
        hashlib.scrypt(texts, salt=SCRYPT_SALT, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32).hex() if texts else ""
    )
    return _sha("secrets v2", hashlib.sha256(keys).hexdigest(), stretched)


_HEADER_BYTES = len(ledger_mod.HEADER.encode("utf-8"))  # (every ledger's text begins with its header)
_FEW_ENTRY_TEXTS = 2_000  # ledger entries made into text one by one before all are, at once


def _ledger_text(entry: Any) -> str:
    """A ledger entry (``sources.ledger.Entry``) as exact text, cheaper than its ``repr``: its fields
    are an id, a number, a slug and key ids (lower-case letters, digits, hyphens) or None."""
    return f"{entry.id} {entry.index} {entry.badge} {entry.rsa_kid} {entry.ed_kid}"


def _ledger_texts(entries: dict[str, Any]) -> dict[str, str]:
    """:func:`_ledger_text` of every entry, by id (written out: a call and five attribute reads
    per entry were half of making 100,000 of them)."""
    return {award: f"{i} {index} {badge} {rsa} {ed}" for award, (i, index, badge, rsa, ed) in entries.items()}
