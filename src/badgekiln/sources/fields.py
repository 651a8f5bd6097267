"""Reading typed fields out of located YAML mappings, collecting every problem.

A :class:`Fields` wraps one mapping from a source file. Each accessor checks one key, records a
located :class:`~badgekiln.errors.Diagnostic` when the value is wrong and returns ``None`` (so
that validation goes on and reports everything in one run). ``finish()`` reports unknown keys
with a did-you-mean hint.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import socket
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from anyascii import anyascii

from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.formats import htmltext
from badgekiln.models import Duration

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")  # \Z, not $: '$' also matches before a final newline
AWARD_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{3,63}\Z")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DURATION_RE = re.compile(r"^P(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,7})D)?$")  # (digits bounded)
# Practical email check: one @, a dotted domain, no spaces or angle brackets.
EMAIL_RE = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_NAMED_ADDRESS = re.compile(r"^[^<>]*<\s*([^<>\s]+@[^<>\s]+)\s*>$")  # Jane Doe <jane@example.com>


def meant_address(value: str) -> tuple[str, str] | None:
    """The address that ``value``, which :data:`EMAIL_RE` refuses, was meant to be when it can be
    told, and how to say so: copied with its name (``Jane Doe <jane@example.com>``, as mail
    programs copy it) or as a ``mailto:`` link ("write the address alone"), or with spaces inside
    it ("an address has no spaces")."""
    text = value.strip()
    for found in (_NAMED_ADDRESS.match(text), re.match(r"^mailto:([^?\s]+)", text, re.IGNORECASE)):
        if found and EMAIL_RE.match(found.group(1)):
            return found.group(1), "write the address alone"
    if re.search(r"\s", text) and EMAIL_RE.match(joined := "".join(text.split())):
        return joined, "an address has no spaces"
    return None


def hidden_in_address(value: str) -> str | None:
    """What of an email address :data:`EMAIL_RE` takes is surely not meant: an invisible character
    (a zero-width space, a soft hyphen, a direction mark: Unicode's "format" characters) or a
    compatibility form of a character (a full-width ``ｆ``, a ligature), said with how to put it
    right; None for an address with neither. Such an address looks right when printed, yet is
    another address: the badge's hash would be of it, which its earner cannot prove is theirs
    (a review found ``jane.doe\u200b@example.com`` made a second earner)."""
    for at, character in enumerate(value):
        if unicodedata.category(character) == "Cf" and not _joiner_in_a_word(value, at):
            name = unicodedata.name(character, "a character with no name")
            return f"it holds an invisible character (U+{ord(character):04X}, {name}): type the address again"
        plain = unicodedata.normalize("NFKC", character)
        if plain != character and character != "\u00b5":  # (a wide ｆ, a ligature, the Ohm sign; µ is typed as itself)
            name = unicodedata.name(character, "a character with no name")
            return f"it holds {character!r} (U+{ord(character):04X}, {name}), a form of {plain!r}: write {plain!r}"
    return None


def _joiner_in_a_word(value: str, at: int) -> bool:
    """Whether ``value[at]`` is a zero-width joiner or non-joiner between two letters (or marks)
    of a script that writes with them (Persian, Devanagari, Sinhala…), where it is part of how a
    word is spelt and typed, not a character slipped in (a review)."""
    if value[at] not in "\u200c\u200d" or not 0 < at < len(value) - 1:
        return False
    return all(
        unicodedata.category(neighbour)[0] in "LM" and unicodedata.name(neighbour, "").startswith(_JOINING_SCRIPTS)
        for neighbour in (value[at - 1], value[at + 1])
    )


# Scripts whose words are spelt with a zero-width joiner or non-joiner (in Latin, Cyrillic or Greek
# one is only an invisible character slipped in: a review)
_JOINING_SCRIPTS = (
    "ARABIC",
    "SYRIAC",
    "DEVANAGARI",
    "BENGALI",
    "GURMUKHI",
    "GUJARATI",
    "ORIYA",
    "TAMIL",
    "TELUGU",
    "KANNADA",
    "MALAYALAM",
    "SINHALA",
    "MONGOLIAN",
    "NKO",
    "TIBETAN",
    "MYANMAR",
    "KHMER",
)


def email_hint(value: str) -> str | None:
    """How to put right an address :data:`EMAIL_RE` refuses, when it can be told: the address it
    was meant to be (:func:`meant_address`), or a character that only looks like a Latin letter (a
    Cyrillic ``а`` in ``exаmple.com``): said, since the address looks right as it is printed."""
    text = value.strip()
    if meant := meant_address(text):
        address, how = meant
        return f"{how}: {address}"
    domain = text.rpartition("@")[2] if "@" in text else ""
    foreign = next((c for c in domain if ord(c) > 0x7E), None)  # (in the domain: ASCII only)
    if foreign is not None:
        name = unicodedata.name(foreign, "a character with no name")
        return (
            f"its domain holds {foreign!r} (U+{ord(foreign):04X}, {name}), which is not a Latin letter, digit or "
            "sign even where it looks like one: type the address again (a domain in another script is "
            "written in its xn-- form)"
        )
    return None


# An email address inside a text (published texts must hold none: the earner's, or anyone's):
# letters of any script; not a fediverse handle (@user@host: after "@"), not a package version
# (react@18.2.0: the last label is letters), not a file name (poster@ICML2024.pdf, in any case).
# What comes around it is judged by _around_an_address: URLs, ssh, scp and git's user@host:path.
EMAIL_IN_TEXT_RE = re.compile(
    r"(?<![\w.%+'@-])[\w.%+'-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+"
    r"(?!(?i:pdf|png|jpe?g|gif|svg|webp|html?|txt|md|docx?|xlsx?|pptx?|zip|json|csv)\b)[^\W\d_]{2,}"
    r"(?![\w@-]|\.[\w-])"
)
# After an address: a port (ssh user@host:22), a path as scp and rsync write it (:~, :., :/), or
# git's user@host:owner/repo; but "jane@example.com:she/her" is an address and its pronouns.
_NOT_AFTER_AN_ADDRESS = re.compile(r":(?:\d|[~./]|(?P<word>[\w.~-]+)/)")
_PRONOUNS = frozenset(
    "she he they her him them hers his theirs ze zie hir xe xem it its any e ey em fae per ve".split()
)


_MAILTO = re.compile(r"mailto:", re.IGNORECASE)


def email_in_text(text: str) -> str | None:
    """The first email address in ``text``, also where it is percent-encoded (``%40``), an HTML
    entity (``&#64;``), in full-width or other compatibility forms (``＠``), or split by invisible
    characters (:func:`plain_text`), or None."""
    return next(emails_in_text(text), None)


def emails_in_text(text: str) -> Iterator[str]:
    """Each email address in ``text``, in the forms :func:`email_in_text` reads."""
    import unicodedata
    from urllib.parse import unquote

    if text.isascii() and "@" not in text and "%40" not in text and "&" not in text:
        return  # (most texts: nothing to decode, and no '@')
    for form in (text, unquote(text), htmltext.unescape(text), unicodedata.normalize("NFKC", text), plain_text(text)):
        form = _MAILTO.sub("mailto ", form)  # (a mailto: link's address is one)
        for found in EMAIL_IN_TEXT_RE.finditer(form):
            if _around_an_address(form, found.start(), found.end()):
                yield found.group()


_TAGS = re.compile(r"<[^<>]*>")  # (a ">" in an attribute leaves some of its tag as text: the HTML is read too)


def markdown_as_shown(text: str) -> str:
    """A Markdown text (a narrative) with what its page shows of it, for the checks of what is
    published: the text, its HTML (a link's address) and the HTML's text (an address split by a
    code span or escaped, ``jane\\@x.org``, reads whole there). A text is rendered unless
    nothing in it reads as ``@`` (:func:`plain_text`: ``%40``, ``&#64;``, ``＠``, ``﹫``) and it
    holds no ``&`` or ``%`` (rendering makes no ``@`` of its own; a review found the percent and
    full-width forms got past a narrower test). A text over the Markdown limits is given back as
    it is (it is refused where it is read)."""
    from badgekiln.formats.markdown import sanitized_html

    if not ("&" in text or "%" in text or "@" in plain_text(text)) or markdown_limit(text):
        return text
    shown = sanitized_html(text)
    return "\n".join((text, shown, htmltext.unescape(_TAGS.sub("", shown))))


def markdown_limit(text: str | None) -> str | None:
    """Why a Markdown text (a narrative) is too large to show on its page, with its line, or None."""
    from badgekiln.formats.markdown import markdown_problem

    problem = markdown_problem(text) if text else None
    return None if problem is None else f"{problem[0]} (line {problem[1]} of the text)"


def font_coverage(name: str | None, location: SourceLocation | None) -> Diagnostic | None:
    """A warning for a name that has characters no bundled font draws (its share card shows a
    box for each), or None."""
    from badgekiln.formats import raster

    undrawn = raster.undrawn(name) if name else []
    if not undrawn:
        return None
    return Diagnostic(
        "warning",
        "font-coverage",
        f"the name has characters that no font of the share cards draws: {raster.undrawn_said(undrawn)}",
        location,
        "its share card (the picture a shared link shows) has a box for each; its pages show the name "
        "in the reader's own fonts",
    )


def _around_an_address(text: str, start: int, end: int) -> bool:
    """Whether what surrounds ``text[start:end]`` leaves it an address: not a URL's user and host
    (https://user:token@host/) or one of its path's segments (https://host/list@lists.org/…, also
    without the scheme: mail-archive.com/list@lists.org; but "HR/hr@example.com" is an address, and
    so is one in a URL's query, ?contact=jane@example.com), and not followed by what
    :data:`_NOT_AFTER_AN_ADDRESS` matches."""
    word = text[:start].rsplit(None, 1)[-1] if text[:start].strip() else ""
    rest = word.partition("://")[2]
    if rest or word.endswith("://"):
        if "/" not in rest or word.endswith("/"):
            return False
    elif word.endswith("/") and "." in word:
        return False
    after = _NOT_AFTER_AN_ADDRESS.match(text, end)
    return after is None or (after.group("word") or "").lower() in _PRONOUNS


def plain_text(text: str) -> str:
    """``text`` as it reads: characters that show nothing removed (Unicode's default-ignorable code
    points: zero-width spaces, joiners, soft hyphens, variation selectors, fillers), compatibility
    forms (full-width letters, the small commercial at) and dots that look like a full stop made
    plain, entities and percent-escapes decoded, case folded. What an address hidden in a text is
    looked for in: ``jane\u2060@example\ua4f8com`` shows as jane@example.com."""
    import unicodedata
    from urllib.parse import unquote

    decoded = htmltext.unescape(unquote(text))
    if not decoded.isascii():
        decoded = "".join(c for c in decoded.translate(_IGNORABLE) if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFKC", decoded).translate(_FULL_STOPS).casefold()


# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt), besides category Cf:
# removed by str.translate.
_IGNORABLE = dict.fromkeys(
    (
        code
        for low, high in (
            (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
            (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
            (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
            (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
        )
        for code in range(low, high + 1)
    ),
    None,
)  # fmt: skip


# Characters drawn as a dot on the line: read as "." (Unicode's confusables of FULL STOP, and the
# ideographic full stops).
_FULL_STOPS = str.maketrans(
    dict.fromkeys(
        "\u3002\uff61\uff0e\u2024\ufe52\ua4f8\u0660\u06f0\u0701\u0702\ua60e\U00010a50\u00b7\u2027\u2219\u22c5\u30fb\uff65",
        ".",
    )
)


MAX_TEXT = 20_000  # characters in one text field
# Lists a credential holds, capped where a verifier we test against refuses more (an interop sweep:
# openbadgeslib refuses a credential of more than 1,600 typed objects, and one whose property holds
# about 1,415 values, the RDF conversion's 10^6 duplicate checks), with room to spare.
MAX_TAGS = 200
MAX_ALIGNMENTS = 200
MAX_EVIDENCE = 1000
LIST_LIMITS = {
    "tags": "a verifier, openbadgeslib, refuses a credential with about 1,400 tags",
    "alignment": "a verifier, openbadgeslib, refuses a credential of more than 1,600 objects",
    "evidence": "a verifier, openbadgeslib, refuses a credential of more than 1,600 objects",
}
BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")  # RFC 3986 section 2.1: a '%' starts an escape of two hex digits
# A host name (letters of any script, digits, '-', '_', '.') or an IP literal in brackets.
# (Not RFC 3986's "IPvFuture" literal, [v1.name]: urllib reads its host as the name inside, and
# browsers and JavaScript's URL parser refuse it; a review found did:web naming that name.)
HOST_RE = re.compile(r"^[\w.-]+\Z|^\[[0-9A-Fa-f:.]+\]\Z")
URL_HINT = 'for example https://example.org/page; write spaces and <>"{}|\\^` percent-encoded (%20 for a space)'


# Keys people write for another one, where spelling alone would suggest the wrong key (a badge
# class's 'expires' is closest to 'requires'): the key meant, and how it is written.
_MEANT = {
    "expires": ("valid_for", "how long awards of this badge last is 'valid_for: P3Y' (3 years; P18M: 18 months)"),
    "expiry": ("valid_for", "how long awards of this badge last is 'valid_for: P3Y' (3 years; P18M: 18 months)"),
    "validity": ("valid_for", "how long awards of this badge last is 'valid_for: P3Y' (3 years; P18M: 18 months)"),
    "valid_until": ("expires", "an award's last day is 'expires: YYYY-MM-DD'"),
    "date": ("issued_on", "the day of an award is 'issued_on: YYYY-MM-DD'"),
    "issued": ("issued_on", "the day of an award is 'issued_on: YYYY-MM-DD'"),
}


def _meant(key: str, known) -> str | None:
    """The hint for a key written for another that this mapping knows, or None."""
    meant = _MEANT.get(key.lower())
    return meant[1] if meant and meant[0] in known else None


def slugify(name: str) -> str:
    """An ASCII file slug for a person's name: ``Zoë O'Neil`` → ``zoe-oneil``, ``Дмитрий Орлов`` → ``dmitriy-orlov``.

    Non-Latin scripts are transliterated by anyascii (``王小明`` → ``wangxiaoming``).
    """
    # Letters, marks, digits and separators only: emoji and symbols are not part of a name's file
    # (anyascii would spell them out: "🎉" → ":tada:").
    kept = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] in "LMNZ" or c in "-'")
    ascii_name = anyascii(kept)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower().replace("'", "")).strip("-")
    return slug[:48].rstrip("-") or "recipient"


def did_you_mean(word: str, choices) -> str | None:
    """A 'did you mean …?' hint for ``word`` among ``choices``, or None."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


class Fields:
    """Typed, located access to one YAML mapping; problems go to ``diagnostics``."""

    def __init__(
        self,
        data: Any,
        location: SourceLocation,
        diagnostics: list[Diagnostic],
        what: str,
        *,
        missing_hint: Callable[[str], str] | None = None,
        spelled: Callable[[str, str], str] | None = None,
        named: Callable[[str], str] | None = None,
    ):
        self.diagnostics = diagnostics
        # how a message names a key: quoted ('issued_on'), or as its option (--issued-on)
        self.named = named or (lambda key: f"'{key}'")
        self.what = what
        # how to give a missing key: a YAML line, unless the values come from a sheet's cells or options
        self._missing_hint = missing_hint or (lambda key: f"add a line '{key}: …'")
        # how a value is written for a key, in a hint: a YAML line, or an option (--issued-on 2026-12-06)
        self.spelled = spelled or (lambda key, value: f"{key}: {value}")
        self.location = getattr(data, "location", location)
        self.ok = isinstance(data, dict)
        if not self.ok:
            self.error(
                "not-a-mapping",
                f"{what} must be a mapping of 'key: value' lines, not {_kind(data)}",
                self.location,
            )
            data = {}
        self.data = data
        self.seen: set[str] = set()

    # -- reporting ---------------------------------------------------------------------------

    def where(self, key: str) -> SourceLocation:
        """Location of the value of ``key`` (or of the mapping when absent)."""
        locations = getattr(self.data, "value_locations", {})
        return locations.get(key, self.location)

    def error(self, code: str, message: str, location: SourceLocation | None = None, hint: str | None = None):
        """Record an error."""
        self.diagnostics.append(Diagnostic("error", code, message, location or self.location, hint))

    def warning(self, code: str, message: str, location: SourceLocation | None = None, hint: str | None = None):
        """Record a warning."""
        self.diagnostics.append(Diagnostic("warning", code, message, location or self.location, hint))

    def finish(self) -> None:
        """Report every key that no accessor asked for as an unknown key."""
        key_locations = getattr(self.data, "key_locations", {})
        for key in self.data:
            if key not in self.seen:
                self.error(
                    "unknown-key",
                    f"unknown key {key!r} in {self.what}",
                    key_locations.get(key, self.location),
                    _meant(key, self.seen)
                    or did_you_mean(key, self.seen)
                    or f"known keys: {', '.join(sorted(self.seen))}",
                )

    def written(self, key: str) -> str:
        """The value of ``key`` as the file writes it (``0012345670``, not the number YAML read)."""
        texts = getattr(self.data, "scalar_texts", {})
        return texts[key] if key in texts else str(self.data.get(key))

    # -- accessors ----------------------------------------------------------------------------

    def raw(self, key: str, *, required: bool = False) -> Any:
        """The value of ``key`` as it is; reports a missing required key."""
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required and self.ok:  # (not a mapping at all: that one error says it, not one per key)
                self.error(
                    "missing-key",
                    f"{self.what} needs {self.named(key)}",
                    self.location if key in self.data else self.where(key),  # (a sheet's empty cell: where it is)
                    self._missing_hint(key),
                )
            return None
        return self.data[key]

    def text(
        self, key: str, *, required: bool = False, max_len: int = MAX_TEXT, single_line: bool = False
    ) -> str | None:
        """A text value, stripped; numbers are refused (quote them)."""
        value = self.raw(key, required=required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(
                "wrong-type",
                f"{self.named(key)} must be text, not {_kind(value)}",
                self.where(key),
                f"put the value in quotes: {key}: {quoted(self.written(key))}",
            )
            return None
        value = value.strip()
        if required and not value:
            self.error("empty", f"{self.named(key)} must not be empty", self.where(key))
            return None
        if required and shows_nothing(value):
            self.error(
                "empty",
                f"{self.named(key)} must not be empty: it holds only characters that show nothing "
                f"({', '.join(sorted({f'U+{ord(c):04X}' for c in value if not c.isspace()}))})",
                self.where(key),
            )
            return None
        if len(value) > max_len:
            self.error(
                "too-long", f"{self.named(key)} is {len(value)} characters; the limit is {max_len}", self.where(key)
            )
            return None
        bad = bad_character(value, allow_newlines=not single_line)
        if bad is not None:
            self.error(
                "control-character",
                f"{self.named(key)} contains a character that is not text ({bad})",
                self.where(key),
                "remove invisible characters pasted from another program",
            )
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error("wrong-type", f"{self.named(key)} must be true or false, not {value!r}", self.where(key))
            return default
        return value

    def integer(self, key: str, default: int) -> int:
        """A whole number."""
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error("wrong-type", f"{self.named(key)} must be a whole number, not {value!r}", self.where(key))
            return default
        return value

    def slug(self, key: str, *, required: bool = False, pattern: re.Pattern = SLUG_RE) -> str | None:
        """A lower-case ASCII identifier such as a badge slug or an award id."""
        value = self.raw(key, required=required)
        if value is None:
            return None
        if not isinstance(value, str) and pattern.match(self.written(key)):
            self.error(
                "wrong-type",
                f"{self.named(key)} must be text, but YAML reads {self.written(key)} as {_kind(value)}; quote it",
                self.where(key),
                f"write it in double quotes: {key}: {quoted(self.written(key))}",
            )
            return None
        if not isinstance(value, str) or not pattern.match(value):
            self.error(
                "bad-identifier",
                f"{self.named(key)} must use only a-z, 0-9 and '-', starting with a letter or digit (got {value!r})",
                self.where(key),
            )
            return None
        return value

    def date(self, key: str, *, required: bool = False) -> date | None:
        """A calendar date written ``YYYY-MM-DD`` that exists."""
        value = self.raw(key, required=required)
        if value is None:
            return None
        return parse_date(value, self, key)

    def email(self, key: str, *, required: bool = False) -> str | None:
        """An email address, normalised (trimmed, lower-cased)."""
        value = self.text(key, required=required, max_len=254, single_line=True)
        if value is None:
            return None
        if not EMAIL_RE.match(value):
            self.error(
                "bad-email",
                f"{self.named(key)} is not a valid email address: {value!r}",
                self.where(key),
                email_hint(value),
            )
            return None
        hidden = hidden_in_address(value)
        if hidden is not None:
            self.error(
                "bad-email", f"{self.named(key)} is not the address it looks like: {value!r}", self.where(key), hidden
            )
            return None
        return value.lower()

    def url(self, key: str, *, required: bool = False, schemes=("https", "http")) -> str | None:
        """An absolute http(s) URL."""
        value = self.text(key, required=required, max_len=2048, single_line=True)
        if value is None:
            return None
        problem = url_problem(value, schemes)
        if problem is not None:
            self.error(
                "bad-url",
                f"{self.named(key)} must be an absolute {' or '.join(schemes)} URL, not {value!r}: {problem}",
                self.where(key),
                URL_HINT,
            )
            return None
        return value

    def duration(self, key: str) -> Duration | None:
        """An ISO 8601 duration of years, months, weeks and days."""
        value = self.text(key, single_line=True)
        if value is None:
            return None
        return self._duration(value, key, self.where(key))

    def _duration(self, value: str, key: str, where: SourceLocation) -> Duration | None:
        match = DURATION_RE.match(value)
        if not match or value == "P":
            self.error(
                "bad-duration",
                f"{self.named(key)} must be an ISO 8601 duration such as P3Y, P18M or P90D, not {value!r}",
                where,
            )
            return None
        years, months, weeks, days = (int(g or 0) for g in match.groups())
        if years + months + weeks + days == 0:
            self.error("bad-duration", f"{self.named(key)} must be longer than zero", where)
            return None
        return Duration(years=years, months=months, days=days + 7 * weeks, text=value)

    def durations(self, key: str) -> tuple[Duration, ...] | None:
        """A list of ISO 8601 durations (``[P60D, P7D]``), longest first, without repeats; None
        when absent (``[]`` is an empty tuple)."""
        if self.raw(key) is None:
            return None
        found: dict[str, Duration] = {}
        for item, location in self.items(key):
            if not isinstance(item, str):
                self.error(
                    "wrong-type",
                    f"every item of {self.named(key)} must be a duration such as P60D, not {item!r}",
                    location,
                )
                continue
            duration = self._duration(item.strip(), key, location)
            if duration is not None:
                found.setdefault(duration.text, duration)
        return tuple(sorted(found.values(), key=lambda d: d.years * 366 + d.months * 31 + d.days, reverse=True))

    def items(self, key: str, *, required: bool = False, most: int | None = None) -> list[tuple[Any, SourceLocation]]:
        """The items of a list, each with its location; more than ``most`` of them is an error
        (:data:`LIST_LIMITS` says why for the lists that have one)."""
        value = self.raw(key, required=required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(
                "wrong-type",
                f"{self.named(key)} must be a list (lines starting with '- '), not {_kind(value)}",
                self.where(key),
            )
            return []
        if most is not None and len(value) > most:
            self.error(
                "too-many",
                f"{self.named(key)} has {len(value):,} items; at most {most:,} ({LIST_LIMITS.get(key, 'a limit')})",
                self.where(key),
            )
            return []
        locations = getattr(value, "item_locations", [self.where(key)] * len(value))
        return list(zip(value, locations))

    def text_list(self, key: str, *, most: int | None = None) -> tuple[str, ...]:
        """A list of short texts (tags)."""
        result = []
        for item, location in self.items(key, most=most):
            if not isinstance(item, str) or not item.strip() or _has_control(item, allow_newlines=False):
                self.error(
                    "wrong-type", f"every item of {self.named(key)} must be a short text, not {item!r}", location
                )
                continue
            result.append(item.strip())
        return tuple(result)


def parse_date(value: Any, fields: Fields, key: str) -> date | None:
    """Parse ``YYYY-MM-DD`` strictly, reporting impossible dates."""
    match = DATE_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        fields.error(
            "bad-date",
            f"{fields.named(key)} must be a date written YYYY-MM-DD, not {value!r}",
            fields.where(key),
            iso_hint(value, key, fields.spelled),
        )
        return None
    year, month, day = (int(p) for p in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        fields.error("bad-date", f"{fields.named(key)} is not a real date: {value} ({exc})", fields.where(key))
        return None


_LOCAL_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s*$")


def iso_readings(value: Any) -> list[str]:
    """The days a date written another way may mean, as YYYY-MM-DD: the local way (31/12/2026,
    12.03.2026: both readings when day and month could be either), without leading zeros
    (2026-4-1) or with slashes or dots (2027/12/31), or with the month's English name (4 April 2026,
    April 4, 2026, 1 Mar 2026, 31-Dec-2027)."""
    text = value.strip() if isinstance(value, str) else ""
    pairs: list[tuple[int, int, int]] = []  # (year, month, day)
    if match := _LOCAL_DATE.match(text):
        first, second, year = (int(part) for part in match.groups())
        pairs = [(year, second, first), (year, first, second)]
    elif match := _LOOSE_ISO.match(text):
        pairs = [(int(match[1]), int(match[3]), int(match[4]))]
    elif (match := _DAY_MONTH.match(text)) and match[2].lower() in _MONTHS:
        pairs = [(int(match[3]), _MONTHS[match[2].lower()], int(match[1]))]
    elif (match := _MONTH_DAY.match(text)) and match[1].lower() in _MONTHS:
        pairs = [(int(match[3]), _MONTHS[match[1].lower()], int(match[2]))]
    readings = []
    for year, month, day in pairs:
        try:
            readings.append(date(year, month, day).isoformat())
        except ValueError:
            continue
    return list(dict.fromkeys(readings))


_MONTH_NAMES = ("january february march april may june july august september october november december").split()
_MONTHS = {name: n for n, name in enumerate(_MONTH_NAMES, 1)} | {name[:3]: n for n, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS["sept"] = 9
_LOOSE_ISO = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")  # (2026-4-1, 2027/12/31, 2027.12.31)
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?(?:\s+|-)([A-Za-z]{3,9})\.?,?(?:\s+|-)(\d{4})$")  # (31-Dec-2027)
_MONTH_DAY = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def iso_hint(value: Any, key: str, spelled: Callable[[str, str], str]) -> str | None:
    """For a date written another way (:func:`iso_readings`), how to write it: year, month, day;
    both readings when day and month could be either."""
    readings = iso_readings(value)
    if not readings:
        return None
    if len(readings) == 1:
        return f"write it year-month-day: {spelled(key, readings[0])}"
    return f"write it year-month-day: {spelled(key, readings[0])} (day first) or {readings[1]} (month first)"


def is_web_url(value: str, schemes=("https", "http")) -> bool:
    """True for an absolute URL with one of ``schemes``, a host and no spaces (see :func:`url_problem`)."""
    return url_problem(value, schemes) is None


# Characters an IRI must not hold unencoded that neither str.isspace nor bad_character catches.
IRI_INVISIBLE = {
    "\ufeff": "a byte order mark (JavaScript reads it as a space)",
    "\u200e": "a left-to-right mark",
    "\u200f": "a right-to-left mark",
    "\u061c": "an Arabic letter mark",
}


IDNA_DEVIATIONS = frozenset("ßς\u200c\u200d")  # UTS 46 section 4.3: IDNA 2003 and 2008 give other names


def url_problem(value: str, schemes=("https", "http")) -> str | None:
    """Why ``value`` is not a URL that is safe to publish and to fetch ("it …"), or None.

    Refused: characters RFC 3986 does not allow (spaces, ``<>"{}|\\^`` and controls: they must be
    percent-encoded; N-Quads IRIs refuse them too), a scheme not in ``schemes``, credentials
    (``user:password@``: they would be published with the URL), an empty host or one with
    characters no host name has, and a port that is not a number from 1 to 65535 (Python's
    ``urlsplit`` accepts ``:80800`` and ``:abc`` and fails only when the port is read). Also
    refused, unencoded: what :func:`bad_character` refuses in any text (lone surrogates,
    noncharacters, bidirectional controls) and :data:`IRI_INVISIBLE`: RFC 3987 §4.1 says an IRI
    must not hold the bidirectional marks, and JavaScript reads U+FEFF as a space (Python does
    not), so jsonld.js refuses an IRI holding one, and with it every credential of the site.
    What the 1EdTech validator's RFC 3986 check and JavaScript's URL parser refuse is refused too
    (an interop review, 2026-12-04): a host not in its ASCII form, an xn-- label that is not
    punycode, a ``%`` that does not start an escape, a second ``#``, brackets outside the host.
    """
    if any(c.isspace() or ord(c) < 32 or ord(c) == 0x7F or c in '<>"{}|\\^`' for c in value):
        return "it contains a space or a character that must be percent-encoded"
    odd = bad_character(value, allow_newlines=False) or next(
        (f"U+{ord(c):04X}, {IRI_INVISIBLE[c]}" for c in value if c in IRI_INVISIBLE), None
    )
    if odd is not None:
        return f"it contains {odd}, which verifiers refuse in a URL (percent-encode it, or leave it out)"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme.lower() not in schemes or not value.lower().startswith(parts.scheme.lower() + "://"):
        return f"it does not start with {' or '.join(s + '://' for s in schemes)}"
    if "@" in parts.netloc:
        return "it contains a user name or password (user:password@), which would be published"
    host, _, port = _split_host_port(parts.netloc)
    if not host:
        return "it has no host name"
    if not HOST_RE.match(host):
        return f"its host name {host!r} has characters that no host name has"
    if not host.isascii():  # (the 1EdTech validator refuses it, and did:web has no room for it)
        try:  # (Python's codec is IDNA 2003, which maps the four deviation characters to others: no advice then)
            ascii_form = "" if IDNA_DEVIATIONS & set(host) else f": write it as {host.encode('idna').decode('ascii')!r}"
        except UnicodeError:
            ascii_form = ""
        return f"its host name {host!r} is not in its ASCII form (an IDN's xn-- labels){ascii_form}"
    for label in host.lower().split("."):
        if label.startswith("xn--") and not _punycode(label[4:]):
            return f"its host name's label {label!r} is not valid punycode (browsers and verifiers refuse it)"
    numeric = _numeric_host_problem(host)
    if numeric is not None:
        return numeric
    if port is not None and (not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535):
        return f"its port {port!r} is not a number from 1 to 65535"
    if BAD_ESCAPE_RE.search(value):
        return "it has a '%' not followed by two hexadecimal digits (write a percent sign as %25)"
    if value.count("#") > 1:
        return "it has a second '#' (write it as %23 inside the fragment)"
    if set("[]") & set(parts.path + parts.query + parts.fragment):  # (in the host: HOST_RE decided)
        return "it has '[' or ']' outside an IPv6 host (write them as %5B and %5D)"
    return None


_NUMBER_LABEL_RE = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")  # WHATWG URL: "ends in a number"


def _numeric_host_problem(host: str) -> str | None:
    """Why a host whose last label is a number is refused, or None (it is not, or it is an IPv4
    address written as four decimal numbers, which every reader takes alike).

    The WHATWG URL standard (host parsing, "ends in a number checker") reads such a host as an
    IPv4 address, in any spelling (``127.1``, ``0x7f.1``, ``2130706433``, ``0177.0.0.1``), or refuses
    it (``1.2.3.4.5``); Python reads it as a name. A published URL must mean one host to all.
    """
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()  # (a trailing dot: the last label is the one before it)
    if not _NUMBER_LABEL_RE.fullmatch(labels[-1]):
        return None
    try:
        if str(ipaddress.IPv4Address(host)) == host:
            return None
    except ValueError:
        pass
    try:
        address = socket.inet_ntoa(socket.inet_aton(host.rstrip(".")))
    except (OSError, ValueError):
        return (
            f"its host name {host!r} ends in a number, so browsers read it as an IPv4 address, which it is not: "
            "use a name, or an address written as four decimal numbers"
        )
    return f"its host name {host!r} is the IPv4 address {address} to browsers: write it as {address}, or use a name"


def _punycode(text: str) -> bool:
    """Whether ``text`` (a label after its ``xn--``) decodes as punycode to something beyond ASCII
    (an IDN label always does: ``xn--a`` decodes to nothing of the kind, and IDNA refuses it)."""
    try:
        decoded = text.encode("ascii").decode("punycode")
    except UnicodeError:
        return False
    return not decoded.isascii() and decoded.isprintable()


def _split_host_port(netloc: str) -> tuple[str, str, str | None]:
    """``host``, ``":"`` and the port (None when there is no ``:``); IPv6 hosts keep their brackets."""
    if netloc.startswith("["):
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if rest and not rest.startswith(":"):  # ("[::1]x:99": urllib reads port 99 there; a review)
            return netloc, "", None  # (no host name is that: HOST_RE refuses it)
        return host, ":", (rest[1:] if rest.startswith(":") else None)
    host, colon, port = netloc.partition(":")
    return host, colon, (port if colon else None)


def quoted(text: str) -> str:
    """``text`` as a double-quoted YAML scalar."""
    return json.dumps(text, ensure_ascii=False)


def _has_control(text: str, *, allow_newlines: bool) -> bool:
    return bad_character(text, allow_newlines=allow_newlines) is not None


# Letters that draw nothing: Hangul fillers and the blank braille pattern (a "blank" name made of
# them passed every check, since they are neither spaces nor formatting characters: a review).
BLANK_LETTERS = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800"
    # and marks that draw nothing by themselves: the combining grapheme joiner, variation selectors,
    # Mongolian free variation selectors, the Khmer inherent vowels
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def shows_nothing(text: str) -> bool:
    """Whether ``text`` is made only of spaces, formatting characters and letters that draw nothing."""
    return all(c.isspace() or c in BLANK_LETTERS or unicodedata.category(c) == "Cf" for c in text)


def invisible_character(text: str) -> str | None:
    """The first invisible formatting character of a name (``U+200B ZERO WIDTH SPACE``), or None.

    Such characters come with text pasted from web pages and mail programs and would be signed into
    badges unseen. The joiners (U+200C, U+200D) are left alone: scripts and emoji need them.
    """
    for c in text:
        if unicodedata.category(c) == "Cf" and c not in "\u200c\u200d":
            return f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')}"
    return None


# UTF-8 bytes read as Windows-1252 (or Latin-1): what a character that continues a sequence looks
# like then (0x80-0xBF, but the no-break space: 'IRMÃ\xa0MARIA' is Portuguese, not garbled).
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_C = f"[\x80-\x9f\xa1-\xbf{_CP1252_HIGH}]"
# Only the forms garbling leaves and text does not hold (a second review: 'NESTLÉ®', '“CAFÉ”',
# 'ANDRÉ’S', 'vom „Fluß“' and 'café…”' were called garbled, since an accented capital and a sign
# are bytes of a character too):
_MOJIBAKE = re.compile(
    f"[ÂÃÄÅ]{_C}"  # Latin letters and signs (é, ü, ñ, ı, ő…): 'JosÃ©', 'YÄ±lmaz'
    f"|â[€„‚]{_C}"  # punctuation, '™' and '€': 'Itâ€™s', 'â€œ'
    f"|ð{_C}{{3}}"  # emoji: 'ðŸŽ‰'
    f"|(?:[\u00c6-\u00df]{_C}){{2,}}"  # Cyrillic, Greek, Hebrew, Arabic…: only a run ('ÐŸÑ€Ð¸')
    f"|(?:[\u00e0-\u00ef]{_C}{{2}}){{2,}}"  # Chinese, Japanese, Korean…: only a run ('æ—¥æœ¬')
)


def mojibake(text: str) -> str | None:
    """``text`` as it reads when its garbled parts are taken for what they were, UTF-8 bytes shown
    as Windows-1252 or Latin-1 (``José`` for ``JosÃ©``), or None when it has no such part.

    A part counts only in a form that garbling leaves and text does not hold (:data:`_MOJIBAKE`),
    and only when its characters, as those bytes, are whole UTF-8 characters: a Portuguese
    ``SÃO``, a Swedish ``ÅÄÖ``, ``NESTLÉ®`` or ``“CAFÉ”`` are not garbled.
    """
    found = False

    def repaired(match: re.Match[str]) -> str:
        nonlocal found
        part = match.group()
        raw = bytes(c.encode("cp1252")[0] if c in _CP1252_HIGH else ord(c) for c in part)
        try:
            character = raw.decode("utf-8")
        except UnicodeDecodeError:
            return part
        found = True
        return character

    fixed = _MOJIBAKE.sub(repaired, text)
    return fixed if found else None


def bad_character(text: str, *, allow_newlines: bool) -> str | None:
    """The first character of ``text`` that is not text, described (``U+D800, a lone surrogate``), or None.

    Refused: C0 and C1 controls and DEL (except tab, and newlines when ``allow_newlines``), lone
    surrogates (U+D800-DFFF: YAML's ``"\\ud800"`` escape, or bytes that are not UTF-8 given on the
    command line, which Python keeps as surrogates; no UTF-8 file, page or spreadsheet can hold
    them), noncharacters (U+FDD0-FDEF and U+xFFFE/U+xFFFF: XML, hence xlsx, refuses them) and the
    bidirectional embedding, override and isolate controls (they reorder what readers see); and,
    without ``allow_newlines``, the line and paragraph separators U+2028 and U+2029.
    """
    allowed = {"\n", "\t", "\r"} if allow_newlines else {"\t"}
    for c in text:
        code = ord(c)
        if c in allowed:
            continue
        if code < 0x20 or 0x7F <= code <= 0x9F:
            kind = "a control character"
        elif 0xD800 <= code <= 0xDFFF:
            kind = "a lone surrogate: bytes that are not UTF-8, or an escape such as \\ud800"
        elif 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            kind = "a noncharacter"
        elif 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            kind = "a bidirectional control character"
        elif code in (0x2028, 0x2029) and not allow_newlines:  # (YAML and some readers break lines there)
            kind = "a line or paragraph separator, which starts a new line"
        else:
            continue
        return f"U+{code:04X}, {kind}"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"
