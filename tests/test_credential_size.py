"""A credential too large for a verifier is warned of before it is published (sources/credentialsize.py)."""

from __future__ import annotations

from conftest import MINIMAL, build, write_site

from badgekiln.sources import credentialsize

CJK = "資格認定証明書の記録"  # ten characters, three bytes each in UTF-8


def _site(tmp_path, narratives: int, chars: int, badge_extra: str = ""):
    evidence = "".join(f"\n      - narrative: {CJK * (chars // 10)}" for _ in range(narratives))
    files = dict(MINIMAL)
    files["badges/first-badge.yaml"] = "name: First Badge\ndescription: The first badge.\nimage: assets/badge.svg\n"
    files["badges/first-badge.yaml"] += "criteria: Did the thing.\n" + badge_extra
    files["recipients/ann.yaml"] = (
        "name: Ann Example\nemail: ann@example.com\nawards:\n  - id: ann-first-1\n    badge: first-badge\n"
        "    issued_on: 2026-01-15\n" + ("    evidence:" + evidence.replace("\n  ", "\n") + "\n" if narratives else "")
    )
    return write_site(tmp_path / "site", files)


def _credential(site) -> bytes:
    return (site / "output/awards/ann-first-1/credential.json").read_bytes()


def test_an_award_whose_credential_passes_256_kib_is_warned_of_at_its_evidence(run, tmp_path):
    # (session 31's interop sweep: 18 narratives of 5,000 CJK characters made a 275 KB
    # credential.json, which openbadgeslib refused: "credential document exceeds the 262144-byte limit")
    site = _site(tmp_path, 18, 5000)
    result = build(run, site)
    assert "recipients/ann.yaml:8:5: warning[large-credential]: this award's Open Badges 3.0 credential" in result.err
    size = len(_credential(site))
    assert size > credentialsize.LIMIT  # (the warning is true)
    said = int(result.err.split("will be about ")[1].split(" KiB")[0].replace(",", ""))
    assert size <= said * 1024 <= size + credentialsize.FRAME + 1024  # errs large, by the frame at most
    assert "hint: link to long evidence (its url) instead of pasting it" in result.err


def test_a_large_credential_under_the_limit_is_not_warned_of(run, tmp_path):
    site = _site(tmp_path, 14, 5000)  # 70,000 characters: about 215 KB
    result = build(run, site)
    assert "large-credential" not in result.err
    assert 200 * 1024 < len(_credential(site)) < credentialsize.LIMIT


def test_a_badge_whose_every_credential_is_too_large_is_warned_of_once_at_its_file(run, tmp_path):
    alignments = "".join(
        f"\n  - name: Standard {n}\n    url: https://example.org/s/{n}\n    description: {CJK * 150}" for n in range(60)
    )
    site = _site(tmp_path, 2, 5000, badge_extra="alignment:" + alignments + "\n")
    result = build(run, site)
    assert result.err.count("warning[large-credential]") == 1, result.err
    assert (
        "badges/first-badge.yaml:4:11: warning[large-credential]: every Open Badges 3.0 credential of this badge"
        in (result.err)
    )
    assert len(_credential(site)) > credentialsize.LIMIT


def test_the_estimate_is_nothing_for_ordinary_texts_and_counts_escapes():
    assert credentialsize.text_bytes('a\u0001"') == len('"a\\u0001\\""')
    assert credentialsize.text_bytes("証") == 5 and credentialsize.text_bytes(None) == 0
