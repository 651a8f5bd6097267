"""Site settings: ``site_src/site.yaml`` plus command-line overrides."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.models import Duration, Issuer
from badgekiln.sources.fields import Fields, url_problem

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for text: the accent is text on the page (links) and behind white text (buttons)
# The page's background (badgekiln.css body), the darker of the two the accent is text on (cards are
# white): a colour readable on it is readable on white, and white on it (a review: a shade told to
# read well against white was 4.2:1 on the page)
PAGE_BACKGROUND = "#f6f7f9"


def _luminance(color: str) -> float:
    """The relative luminance of ``#rrggbb`` (WCAG 2.1, its definition of relative luminance)."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_page(color: str) -> float:
    """The contrast ratio of ``#rrggbb`` with :data:`PAGE_BACKGROUND` (the lower of its contrasts
    with the page and with white), from 1 to 21."""
    return (_luminance(PAGE_BACKGROUND) + 0.05) / (_luminance(color) + 0.05)


def darker_until_readable(color: str) -> str:
    """``color`` darkened (its channels scaled down together, keeping its hue) until white on it
    and it on the page reach :data:`MIN_CONTRAST`."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    for percent in range(100, -1, -1):
        shade = "#" + "".join(f"{round(c * percent / 100):02x}" for c in (r, g, b))
        if contrast_with_page(shade) >= MIN_CONTRAST:
            return shade
    return "#000000"


LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Signatory:
    """The person who signs printed certificates (``certificate: signatory:`` in site.yaml).

    ``signature`` is an image of their signature, relative to site_src/ (``assets/sig.png``).
    """

    name: str
    title: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class SiteConfig:
    """Validated site settings. ``base_url`` always ends with ``/``."""

    base_url: str
    issuer: Issuer
    title: str
    language: str = "en"
    accent_color: str = "#1f5f8b"
    linkedin_organization_id: str | None = None
    footer: str = ""
    signatory: Signatory | None = None  # printed on certificates
    stylesheet: str | None = None  # "assets/site.css" when site_src/assets/site.css exists
    # site.yaml's base_url when --base-url (serve, a preview build) overrides it: see ``published``
    published_base_url: str | None = None
    # reminders to earners before expiry, for badge classes that do not say (longest first)
    remind_before: tuple[Duration, ...] = ()
    # whether notify tells earners that an award of theirs was revoked (a provider may rather do so in person)
    notify_revocations: bool = True

    def url(self, path: str = "") -> str:
        """The absolute URL of ``path`` (relative POSIX path inside the site)."""
        return self.base_url + path

    @property
    def published(self) -> SiteConfig:
        """These settings with site.yaml's ``base_url``: the identity the site publishes (its DID and
        URLs), which what others sign about it names, whatever URL this build previews it at."""
        if self.published_base_url is None or self.published_base_url == self.base_url:
            return self
        return replace(self, base_url=self.published_base_url, published_base_url=None)

    @property
    def base_path(self) -> str:
        """The URL path of the site root, e.g. ``/`` or ``/badges/``."""
        return urlsplit(self.base_url).path or "/"

    @property
    def did(self) -> str:
        """The site's ``did:web`` identifier (sub-paths become ``:``-separated segments)."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host += "%3A" + str(parts.port)
        segments = [quote(unquote(s), safe="") for s in parts.path.split("/") if s]
        return ":".join(["did", "web", host, *segments])

    @property
    def did_document_path(self) -> str:
        """Where the DID document lives, relative to the site root."""
        return "did.json" if self.base_path != "/" else ".well-known/did.json"


def normalize_base_url(value: str) -> str:
    """Lower-case scheme and host, and exactly one trailing slash."""
    parts = urlsplit(value)
    netloc = parts.netloc.lower()
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    return f"{parts.scheme.lower()}://{netloc}{path}"


def read_site_config(
    data, rel: str, diagnostics: list[Diagnostic], *, base_url_override: str | None
) -> SiteConfig | None:
    """Build a SiteConfig from the parsed ``site.yaml``; problems go to ``diagnostics``."""
    fields = Fields(data, SourceLocation(rel, 1, 1), diagnostics, "site.yaml")
    base_url = fields.text("base_url", required=base_url_override is None, single_line=True)
    published = None
    if base_url_override is not None:
        # site.yaml's own base_url stays the published identity (checked quietly: it is not used for URLs)
        published = check_base_url(base_url, fields.where("base_url"), []) if base_url else None
        base_url = base_url_override
        where = SourceLocation("--base-url")
    else:
        where = fields.where("base_url")
    if base_url is not None:
        base_url = check_base_url(base_url, where, diagnostics)
    issuer = _read_issuer(fields)
    title = fields.text("title", single_line=True, max_len=200)
    language = fields.text("language", single_line=True) or "en"
    if not LANG_RE.match(language):
        fields.error(
            "bad-language",
            f"'language' must be a language tag such as en or en-GB, not {language!r}",
            fields.where("language"),
        )
    if "accent_color" in fields.data and fields.data["accent_color"] is None:  # (a review: `accent_color: #b03a2e`)
        fields.warning(
            "empty-value",
            "'accent_color' is empty, so the default colour is used: unquoted, a colour's '#' starts a YAML comment",
            fields.where("accent_color"),
            'write the colour in quotes: accent_color: "#rrggbb"',
        )
    color = fields.text("accent_color", single_line=True) or "#1f5f8b"
    if not COLOR_RE.match(color):
        fields.error(
            "bad-color", f"'accent_color' must be a colour written #rrggbb, not {color!r}", fields.where("accent_color")
        )
        color = "#1f5f8b"
    elif contrast_with_page(color) < MIN_CONTRAST:
        fields.warning(
            "low-contrast",
            f"'accent_color' {color} against the page has a contrast of {contrast_with_page(color):.1f}:1: links, "
            "buttons and badge names in it (and white text on it) are hard to read; text needs 4.5:1 (WCAG AA)",
            fields.where("accent_color"),
            f'a darker shade of it reads well: accent_color: "{darker_until_readable(color)}"',
        )
    linkedin = fields.text("linkedin_organization_id", single_line=True)
    if linkedin is not None and not (linkedin.isascii() and linkedin.isdecimal()):  # ('١٢٣' and '²' are digits too)
        fields.error(
            "bad-linkedin-id",
            "'linkedin_organization_id' must be the number in your LinkedIn company page's admin URL",
            fields.where("linkedin_organization_id"),
        )
        linkedin = None
    footer = fields.text("footer", max_len=2000) or ""
    remind_before = fields.durations("remind_before") or ()
    notify_revocations = fields.boolean("notify_revocations", True)
    signatory = _read_certificate(fields)
    fields.finish()
    if base_url is None or issuer is None:
        return None
    return SiteConfig(
        base_url=base_url,
        issuer=issuer,
        title=title or f"{issuer.name} badges",
        language=language,
        accent_color=color.lower(),
        linkedin_organization_id=linkedin,
        footer=footer,
        signatory=signatory,
        published_base_url=published,
        remind_before=remind_before,
        notify_revocations=notify_revocations,
    )


DID_AMBIGUOUS_RE = re.compile(r"%(?:2[Ff]|3[Aa]|25)")  # did:web decodes each path segment (did-method-web)


def check_base_url(value: str, where: SourceLocation, diagnostics: list[Diagnostic]) -> str | None:
    """The normalised ``base_url`` (site.yaml's or ``--base-url``), or None with an error in ``diagnostics``.

    Every URL of the site starts with it, so a secret in it (``user:password@``) would be
    published in every badge, and a port that is not a number, a query or a fragment would
    make every id unusable.
    """
    problem = url_problem(value, ("https", "http"))
    if problem is None and ("?" in value or "#" in value):
        problem = "it has a query (?…) or a fragment (#…), which every URL of the site would inherit"
    if problem is None and any(
        unquote(segment) in (".", "..") for segment in urlsplit(value).path.split("/")
    ):  # (https://uni.example/x/../dept/ is /dept/, under another name: ids and the did:web would say it twice)
        problem = "its path has a '.' or '..' segment: write the path it stands for"
    host = urlsplit(value).hostname or ""
    if problem is None and not host.startswith("[") and "" in host.rstrip(".").split("."):
        problem = f"its host {host!r} has an empty part between dots"
    if problem is None and DID_AMBIGUOUS_RE.search(urlsplit(value).path):
        problem = (
            "its path has an encoded '/', ':' or '%' (%2F, %3A, %25): the site's did:web identifier cannot say "
            "such a path, and verifiers would look for its DID document elsewhere"
        )
    if problem is not None:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-url",
                f"'base_url' must be an absolute https URL, not {value!r}: {problem}",
                where,
                "for example https://badges.example.org/ or https://org.github.io/badges/",
            )
        )
        return None
    parts = urlsplit(value)
    if _default_port(parts.scheme.lower(), parts.port):
        # Browsers drop a default port from every address they show a page (URL Standard, "basic
        # URL parser": a port equal to the scheme's default is set to null), so the ids are never
        # the page's own address and the page's Verify calls every badge another site's (a
        # review). Not rewritten: the ids are the credentials' identity, and a site that published
        # with it must keep it (other verifiers compare ids as written, and accept them).
        diagnostics.append(
            Diagnostic(
                "warning",
                "default-port",
                f"'base_url' names the default port of {parts.scheme.lower()} (:{parts.port}), which browsers "
                "drop from a page's address: the pages' Verify compares the badges' ids with it, and says they "
                "are another site's",
                where,
                f"write it as {_without_port(value)!r} (for a site that has published badges, that changes "
                "every badge's id: keep it until the site moves)",
            )
        )
    if parts.scheme.lower() != "https" and parts.hostname not in LOOPBACK_HOSTS:
        diagnostics.append(
            Diagnostic(
                "warning",
                "insecure-base-url",
                f"'base_url' {value!r} is not https; verifiers and wallets expect https",
                where,
                "use https:// (GitHub Pages, Netlify and S3+CloudFront all serve https)",
            )
        )
    return normalize_base_url(value)


def _default_port(scheme: str, port: int | None) -> bool:
    return (scheme, port) in (("https", 443), ("http", 80))


def _without_port(value: str) -> str:
    """``value`` without its ``:port`` (the port given, and the last ``:`` of the host part)."""
    parts = urlsplit(value)
    return parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()


def _read_issuer(fields: Fields) -> Issuer | None:
    data = fields.raw("issuer", required=True)
    if data is None:
        return None
    sub = Fields(data, fields.where("issuer"), fields.diagnostics, "issuer")
    name = sub.text("name", required=True, single_line=True, max_len=200)
    url = sub.url("url", required=True)
    email = sub.email("email", required=True)
    description = sub.text("description") or ""
    image = sub.text("image", single_line=True)
    telephone = sub.text("telephone", single_line=True, max_len=40)
    if telephone is not None:
        compact = re.sub(r"[\s().-]", "", telephone)
        if not re.fullmatch(r"\+[1-9]\d{6,14}", compact):
            sub.error(
                "bad-telephone",
                f"'telephone' must be an international number such as +44 1642 000000, not {telephone!r}",
                sub.where("telephone"),
                "Open Badges requires the E.164 form: + and digits",
            )
            telephone = None
        else:
            telephone = compact
    sub.finish()
    if not (name and url and email):
        return None
    return Issuer(name=name, url=url, email=email, description=description, image=image, telephone=telephone)


def _read_certificate(fields: Fields) -> Signatory | None:
    """``certificate: {signatory: {name, title, signature}}``: who signs printed certificates.

    The signature image's file is checked where the issuer's logo is (sources/validate.py).
    """
    data = fields.raw("certificate")
    if data is None:
        return None
    sub = Fields(data, fields.where("certificate"), fields.diagnostics, "certificate")
    signatory = None
    person = sub.raw("signatory", required=True)
    if person is not None:
        who = Fields(person, sub.where("signatory"), fields.diagnostics, "signatory")
        name = who.text("name", required=True, single_line=True, max_len=200)
        title = who.text("title", single_line=True, max_len=200)
        signature = who.text("signature", single_line=True)
        who.finish()
        if name:
            signatory = Signatory(name=name, title=title, signature=signature)
    sub.finish()
    return signatory


@dataclass(frozen=True)
class SourceTree:
    """Where each part of a site's sources is: the one place that names them.

    The class attributes are paths relative to the site's root (POSIX, as
    :mod:`badgekiln.sources.safefiles` reads them); the properties are the same places as ``Path``s below
    ``root``.
    """

    root: Path

    SITE_SRC = "site_src"
    SITE_YAML = "site_src/site.yaml"
    ASSETS = "site_src/assets"
    PAGES = "site_src/pages"
    KEYS = "site_src/keys"
    LEDGER = "site_src/awards.lock"
    NOTIFIED = "site_src/notified.lock"
    MEMBERS = "site_src/members.csv"  # the membership system's export (email, until): never published
    ENDORSEMENTS = "site_src/endorsements"
    BADGES = "badges"
    RECIPIENTS = "recipients"
    TEMPLATES = "templates"

    @staticmethod
    def image(rel: str) -> str:
        """An image named in YAML relative to site_src/ (``assets/b.png``), relative to the root."""
        return f"{SourceTree.SITE_SRC}/{rel}"

    @staticmethod
    def asset(name: str) -> str:
        """A file of site_src/assets/ (``badges/b.svg``), relative to the root."""
        return f"{SourceTree.ASSETS}/{name}"

    def path(self, rel: str) -> Path:
        """``rel`` (one of the names above, or below them) as a path."""
        return self.root / rel

    site_yaml = property(lambda self: self.root / SourceTree.SITE_YAML)
    site_src = property(lambda self: self.root / SourceTree.SITE_SRC)
    badges = property(lambda self: self.root / SourceTree.BADGES)
    recipients = property(lambda self: self.root / SourceTree.RECIPIENTS)
    pages = property(lambda self: self.root / SourceTree.PAGES)
    templates = property(lambda self: self.root / SourceTree.TEMPLATES)
    keys = property(lambda self: self.root / SourceTree.KEYS)
    ledger = property(lambda self: self.root / SourceTree.LEDGER)
    notified = property(lambda self: self.root / SourceTree.NOTIFIED)

    def __getitem__(self, name: str) -> Path:
        """The same as the attribute ``name`` (``tree["badges"]``), for callers that index."""
        value = getattr(self, name)
        assert isinstance(value, Path)
        return value


def source_paths(source: Path) -> SourceTree:
    """The folders and files of a site below ``source``."""
    return SourceTree(source)
