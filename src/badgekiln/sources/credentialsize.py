"""How large an award's OB 3.0 credential will be, from the texts it carries.

A verifier may refuse a credential for its size alone: openbadgeslib (PyPI), reading a Data
Integrity credential, stops at 256 KiB ("credential document exceeds the 262144-byte limit").
Our limits on texts keep almost every credential near 5 KB, but an award may carry 100,000
characters of narratives, and in a script of three bytes a character (CJK) that is 300 KB. So
validation estimates the size of ``credential.json`` from the texts it embeds and warns before
such a credential is published (README, "Independent verifiers").

The estimate counts each text as the JSON the build writes (UTF-8, escapes included) as many
times as the credential holds it, plus :data:`FRAME` for everything else: it errs on the large side.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from badgekiln.models import BadgeClass, Evidence

LIMIT = 256 * 1024  # bytes: openbadgeslib's limit on a credential document
# Bytes of a credential besides the texts counted here: contexts, URLs, the issuer's profile
# (twice: issuer and creator), the recipient's hash, status entries, the proof and indentation.
# A credential of the example site is 4.4 KB in all; the issuer's description may add 4 KB more.
FRAME = 12 * 1024
ITEM = 160  # bytes around one tag, alignment or evidence entry (its keys, braces, indentation)
_WIDEST = 6  # bytes a character can take in the JSON written (a control character's \u escape)


def text_bytes(text: str | None) -> int:
    """Bytes of ``text`` as a JSON string in a credential (UTF-8, quotes and escapes)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")) if text else 0


def _badge_texts(badge: BadgeClass) -> list[tuple[str | None, int]]:
    """Each text of a badge class that its credentials hold, with how many times."""
    texts: list[tuple[str | None, int]] = [(badge.name, 2), (badge.description, 2), (badge.criteria, 1)]
    texts += [(tag, 1) for tag in badge.tags]
    for alignment in badge.alignment:
        texts += [(alignment.name, 1), (alignment.url, 1), (alignment.framework, 1)]
        texts += [(alignment.code, 1), (alignment.description, 1)]
    return texts


def _award_texts(narrative: str | None, evidence: Iterable[Evidence]) -> list[tuple[str | None, int]]:
    texts: list[tuple[str | None, int]] = [(narrative, 1)]
    for item in evidence:
        texts += [(item.url, 1), (item.narrative, 1), (item.name, 1), (item.description, 1)]
    return texts


def _size(texts: list[tuple[str | None, int]], items: int) -> int:
    """:data:`FRAME` and ``items`` entries' keys with the texts: at once if even their widest
    bytes fit under :data:`LIMIT` (almost always: nothing is encoded), else counted exactly."""
    frame = FRAME + ITEM * items
    if frame + _WIDEST * sum(len(text) * times for text, times in texts if text) <= LIMIT:
        return 0
    return frame + sum(text_bytes(text) * times for text, times in texts)


def badge_estimate(badge: BadgeClass) -> int:
    """The size of the credentials of ``badge`` whose awards add no text of their own, or 0
    when it is clearly under :data:`LIMIT`."""
    return _size(_badge_texts(badge), len(badge.tags) + len(badge.alignment))


def award_estimate(badge: BadgeClass, narrative: str | None, evidence: tuple[Evidence, ...]) -> int:
    """The size of the credential of an award of ``badge`` with these texts, or 0 when it is
    clearly under :data:`LIMIT`."""
    texts = _badge_texts(badge) + _award_texts(narrative, evidence)
    return _size(texts, len(badge.tags) + len(badge.alignment) + len(evidence))
