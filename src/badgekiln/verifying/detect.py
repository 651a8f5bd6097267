"""What was given: a URL, JSON, a JWS, a baked PNG or SVG. Unbake, then hand over to the right verifier."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from badgekiln.errors import BakeError, VerifyError
from badgekiln.formats import baking
from badgekiln.verifying import endorsement, ob2, ob3
from badgekiln.verifying.common import (
    VerifyOptions,
    is_web_url,
    load_json,
    one_of,
    parse_jws,
    short,
)
from badgekiln.verifying.fetching import FetchError
from badgekiln.verifying.result import Recorder, StopVerification, VerificationResult, unfetched

INTERNAL_CHECK = "verifier error"  # a check that only a bug in badgekiln can fail
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def looks_like_jws(text: str) -> bool:
    """Whether ``text`` has the shape of a JWS compact serialization."""
    return bool(_JWS.fullmatch(text.strip()))


def verify_bytes(data: bytes, options: VerifyOptions) -> VerificationResult:
    """Verify a badge given as bytes: JSON, JWS text, a URL in text, or a baked PNG/SVG.

    Args:
        data: The file's contents.
        options: Fetch edge, times and optional recipient.

    Returns:
        The result with every check made.
    """
    rec = Recorder()
    _guarded(rec, lambda: _dispatch_bytes(rec, options.memoized(), data))
    return rec.result()


def verify_url(url: str, options: VerifyOptions) -> VerificationResult:
    """Verify the badge published at ``url`` (a hosted assertion, credential, JWS or baked image).

    Args:
        url: An http(s) URL.
        options: Fetch edge, times and optional recipient.

    Returns:
        The result with every check made.
    """
    rec = Recorder()
    rec.input_url = url
    opts = options.memoized()

    def work() -> None:
        try:
            data = opts.fetch(url)
        except FetchError as e:
            if e.status == 410:  # Open Badges 2.0: "Gone" at a badge's URL means revoked
                rec.stop("not revoked", f"{url} answers 410 Gone: the issuer has withdrawn it")
            rec.stop("fetch", str(e), unchecked=unfetched(e))
        _dispatch_bytes(rec, opts, data)

    _guarded(rec, work)
    return rec.result()


def _guarded(rec: Recorder, work: Callable[[], None]) -> None:
    """Run a verification; an exception nobody expected still ends in a verdict, not a traceback."""
    try:
        work()
    except StopVerification:
        pass
    except Exception as e:  # noqa: BLE001 - hostile input must get a verdict (the fuzz test hunts these)
        rec.fail(
            INTERNAL_CHECK,
            f"verification stopped on an unexpected {type(e).__name__} ({short(str(e), 200)}), "
            "so the badge is not accepted; please report this badge to badgekiln's issue tracker",
        )


def _dispatch_bytes(rec: Recorder, opts: VerifyOptions, data: bytes) -> None:
    if data.startswith(_PNG_SIGNATURE):
        _dispatch_png(rec, opts, data)
        return
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.match(_PROLOGUE.sub(b"", data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n"))[:1024]):
        rec.stop("input", _html_page(data), not_a_badge=True)
    if head.startswith(b"<"):
        _dispatch_svg(rec, opts, data)
        return
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        rec.stop("input", "not text, a PNG or an SVG: nothing to verify")
    _dispatch_text(rec, opts, text)


_HTML = re.compile(rb"<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)
# What may come before a page's <!DOCTYPE html> or <html>: an XML declaration, comments, space.
_PROLOGUE = re.compile(rb"\A(?:\s+|<\?xml[^>]{0,1000}\?>|<!--.{0,60000}?-->)*", re.DOTALL)
# A <link> tag, then its rel, in two linear passes: one pattern with both (<link[^>]*rel=...[^>]*>)
# backtracks cubically on "<link rel=alternate " repeated with no ">" (a minute for 60 KB).
_LINK = re.compile(rb"<link\b[^<>]*>", re.IGNORECASE)
_ALTERNATE = re.compile(rb"\brel=[\"']?alternate\b", re.IGNORECASE)
_HREF = re.compile(rb"\bhref=[\"']?([^\"'\s>]+)", re.IGNORECASE)


def _html_page(data: bytes) -> str:
    """What to say of a web page given to verify: a badge's page is not the badge. Its page's
    badge is named, not followed: a page anyone wrote may link to another person's badge."""
    tags = [tag for tag in _LINK.findall(data[:65536]) if _ALTERNATE.search(tag)]
    links = [m.group(1) for m in (_HREF.search(tag) for tag in tags) if m]
    named = ", ".join(short(link.decode("utf-8", "replace"), 200) for link in links[:2])
    return (
        "this is a web page (HTML), not a badge: verify the badge's own file instead, such as its "
        "assertion.json or credential.json (a badgekiln badge page links them under 'For verifiers')"
        + (f"; this page names {named}" if named else "")
    )


def _dispatch_png(rec: Recorder, opts: VerifyOptions, data: bytes) -> None:
    with rec.guard("unbake"):
        text = baking.unbake_png(data, keyword=baking.OB3_PNG_KEYWORD)
        keyword = baking.OB3_PNG_KEYWORD
        if text is None:
            text, keyword = baking.unbake_png(data, keyword=baking.OB2_PNG_KEYWORD), baking.OB2_PNG_KEYWORD
    if text is None:
        if _holds_badge_content(data):  # (a chunk unbake does not read: zTXt, tEXt, another case)
            rec.stop(
                "unbake",
                "the PNG holds Open Badges content, but no readable 'openbadges' or 'openbadgecredential' iTXt chunk",
            )
        rec.stop(
            "unbake",
            "the PNG has no 'openbadges' or 'openbadgecredential' chunk: it is not a baked badge",
            not_a_badge=True,
        )
    rec.ok("unbake", f"found the PNG's '{keyword}' chunk")
    _dispatch_text(rec, opts, text.strip())


# Bytes of an image that may belong to Open Badges content in some form (a chunk's keyword in any
# case or spacing, either version's namespace, or what may spell one: a character reference, an
# entity): an image with any of them that holds no readable badge is an unreadable badge, not
# an image without one (hostile reviews). An image with none is "not a badge".
_BADGE_MARKERS = (b"openbadge", b"open badge", b"imsglobal", b"/ob/v3p0", b"&#", b"<!entity")


def _holds_badge_content(data: bytes) -> bool:
    """Whether an image that ``unbake`` found no badge in may still hold Open Badges content."""
    lowered = data.lower()
    return any(marker in lowered for marker in _BADGE_MARKERS)


def _dispatch_svg(rec: Recorder, opts: VerifyOptions, data: bytes) -> None:
    if not _holds_badge_content(data):  # (no badge's element or namespace anywhere: an image, whatever its form)
        try:
            baking.unbake_svg(data)
        except BakeError:  # (a DOCTYPE, say, that a baked badge may not have: said, not called a forgery)
            rec.stop("unbake", "the SVG holds no Open Badges content: it is not a baked badge", not_a_badge=True)
    with rec.guard("unbake"):
        found = baking.unbake_svg(data)
    if found is None:
        if _holds_badge_content(data):
            rec.stop(
                "unbake",
                "the SVG holds Open Badges content, but no readable <openbadges:assertion> or <openbadges:credential>",
            )
        rec.stop(
            "unbake",
            "the SVG has no <openbadges:assertion> or <openbadges:credential>: it is not a baked badge",
            not_a_badge=True,
        )
    element = "<openbadges:assertion>" if found["version"] == 2 else "<openbadges:credential>"
    rec.ok("unbake", f"found the SVG's {element}")
    verify, body = (found["verify"] or "").strip(), (found["body"] or "").strip()
    if found["version"] == 2 and is_web_url(verify):
        given = None
        if body:
            with rec.guard("input"):
                given = load_json(body.encode("utf-8"), "the baked assertion")
        ob2.verify_hosted(rec, opts, verify, given)
    elif verify:
        _dispatch_text(rec, opts, verify)
    elif body:
        _dispatch_text(rec, opts, body)
    else:
        rec.stop("unbake", f"the SVG's {element} is empty")


def _dispatch_text(rec: Recorder, opts: VerifyOptions, text: str) -> None:
    if text.startswith(("{", "[")):
        with rec.guard("input"):
            document = load_json(text.encode("utf-8"), "the input")
        _dispatch_json(rec, opts, document)
    elif is_web_url(text) and not any(c.isspace() for c in text):
        ob2.verify_hosted(rec, opts, text, None)  # a legacy baked URL, or a text file holding one
    elif looks_like_jws(text):
        _dispatch_jws(rec, opts, text)
    else:
        rec.stop("input", "not JSON, a JWS, a URL, or a baked PNG or SVG image")


def _dispatch_json(rec: Recorder, opts: VerifyOptions, document: dict[str, Any]) -> None:
    if endorsement.is_endorsement(document):
        endorsement.verify_endorsement_credential(rec, opts, document)
        return
    if ob3.is_credential(document):
        ob3.verify_credential(rec, opts, document)
        return
    if not (ob2.has_type(document, "Assertion") or {"recipient", "badge"} <= document.keys()):
        rec.stop("input", "the JSON is neither an Open Badges 2.0 Assertion nor a verifiable credential")
    rec.kind = "ob2-hosted"
    if one_of(ob2.verification_of(document).get("type"), ob2.SIGNED_TYPES):
        rec.kind = "ob2-signed"
        rec.stop(
            "input",
            "this is the payload of a signed assertion: verify its JWS (assertion.jws), which carries the signature",
        )
    if not is_web_url(document.get("id")):
        rec.stop("input", "the assertion's id is not the http(s) URL where it is hosted")
    ob2.verify_hosted(rec, opts, document["id"], document)


def _dispatch_jws(rec: Recorder, opts: VerifyOptions, token: str) -> None:
    try:
        _, payload, _, _ = parse_jws(token)
        claims = load_json(payload, "the JWS payload")
    except (VerifyError, BakeError) as e:
        rec.stop("JWS", str(e))
    if isinstance(claims.get("vc"), dict) or ob3.is_credential(claims):
        ob3.verify_vc_jwt(rec, opts, token)
    elif ob2.has_type(claims, "Assertion") or {"recipient", "badge"} <= claims.keys():
        ob2.verify_signed(rec, opts, token)
    else:
        rec.stop("JWS", "the JWS payload is neither an Open Badges 2.0 Assertion nor a verifiable credential")
