"""How large an award's OB 3.0 credential will be, from the texts it carries.

A verifier may refuse a credential for its size alone: openbadgeslib (PyPI), reading a Data
Integrity credential, stops at 256 KiB ("credential document exceeds the 262144-byte limit").
Our limits on texts keep almost every credential near 5 KB, but an award may carry 100,000
characters of narratives, and in a script of three bytes a character (CJK) that is 300 KB. So
validation estimates the size of ``credential.json`` and warns before such a credential is
published (README, "Independent verifiers").

A credential holds three kinds of text: the award's own (narratives, evidence), its badge
class's (name and description twice, criteria, tags, alignments) and the issuer's profile
(twice: ``issuer`` and the achievement's ``creator``). Each is counted as the JSON the build
writes (UTF-8, escapes included) as many times as the credential holds it. A recipient file is
validated alone and its result kept while the files it reads are unchanged, so what it may
depend on of the badge classes and the issuer is only the *shared part* of each badge, rounded
up to :data:`STEP` (:func:`shared_part`): the build's cache key of recipient files holds that
number, which changes when a badge's or the issuer's texts grow past a step, not on every edit.
The estimate errs on the large side, by :data:`STEP` at most beyond :data:`FRAME`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from badgekiln.models import BadgeClass, Evidence, Issuer

LIMIT = 256 * 1024  # bytes: openbadgeslib's limit on a credential document
# Bytes of a credential besides the texts and the site's URLs counted here (shared_part): the
# contexts, the parts of ids and URLs after the base URL, the recipient's hash, the status
# entries, the proof and the indentation. A credential of the example site is 4.4 KB in all.
FRAME = 8 * 1024
STEP = 16 * 1024  # what a badge's shared part is rounded up to (see the module's text)
ITEM = 160  # bytes around one tag, alignment or evidence entry (its keys, braces, indentation)
_WIDEST = 6  # bytes a character can take in the JSON written (a control character's \u escape)


def text_bytes(text: str | None) -> int:
    """Bytes of ``text`` as a JSON string in a credential (UTF-8, quotes and escapes)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")) if text else 0


def _texts_bytes(texts: Iterable[str | None]) -> int:
    return sum(text_bytes(text) for text in texts)


URLS = 16  # URLs of the site a credential holds whatever its badge (ids, images, status lists, keys)


def shared_part(badge: BadgeClass, issuer: Issuer | None, base_url: str = "") -> int:
    """The bytes every credential of ``badge`` holds of the badge's and the issuer's texts and of
    the site's URLs (:data:`URLS` and one per component of a pathway: ``related``), rounded up to
    :data:`STEP`."""
    related = badge.requires.of if badge.requires else ()
    badge_bytes = (URLS + len(related)) * len(base_url.encode()) + sum(ITEM + len(slug) for slug in related)
    badge_bytes += 2 * _texts_bytes((badge.name, badge.description)) + text_bytes(badge.criteria)
    badge_bytes += _texts_bytes(badge.tags) + ITEM * (len(badge.tags) + len(badge.alignment))
    for alignment in badge.alignment:
        badge_bytes += _texts_bytes(
            (alignment.name, alignment.url, alignment.framework, alignment.code, alignment.description)
        )
    if issuer is not None:
        badge_bytes += 2 * _texts_bytes(
            (issuer.name, issuer.url, issuer.email, issuer.description, issuer.image, issuer.telephone)
        )
    return -(-badge_bytes // STEP) * STEP


def badge_estimate(shared: int) -> int:
    """The size of the credentials of a badge of this shared part whose awards add no text."""
    return FRAME + shared


def award_estimate(shared: int, narrative: str | None, evidence: tuple[Evidence, ...]) -> int:
    """The size of the credential of an award with these texts, of a badge of this shared part,
    or 0 when it is clearly under :data:`LIMIT` (even its widest bytes fit: nothing is encoded)."""
    texts = [narrative]
    for item in evidence:
        texts += [item.url, item.narrative, item.name, item.description]
    frame = FRAME + shared + ITEM * len(evidence)
    if frame + _WIDEST * sum(len(text) for text in texts if text) <= LIMIT:
        return 0
    return frame + _texts_bytes(texts)
