"""A credential too large for a verifier is warned of before it is published (sources/credentialsize.py)."""

from __future__ import annotations

from conftest import MINIMAL, build, write_site

from badgekiln.sources import credentialsize

CJK = "資格認定証明書の記録"  # ten characters, three bytes each in UTF-8


def _site(tmp_path, narratives: int, chars: int, badge_extra: str = "", issuer_description: str = ""):
    evidence = "".join(f"\n      - narrative: {CJK * (chars // 10)}" for _ in range(narratives))
    files = dict(MINIMAL)
    if issuer_description:
        files["site_src/site.yaml"] = (
            MINIMAL["site_src/site.yaml"].rstrip() + f"\n          description: {issuer_description}\n"
        )
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
    # errs large, by the frame and a step at most
    assert size <= said * 1024 <= size + credentialsize.FRAME + credentialsize.STEP + 1024
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
        "badges/first-badge.yaml:1:1: warning[large-credential]: every Open Badges 3.0 credential of this badge "
        "(credential.json) will be about" in (result.err)
    )
    assert len(_credential(site)) > credentialsize.LIMIT


def test_the_estimate_is_nothing_for_ordinary_texts_and_counts_escapes():
    assert credentialsize.text_bytes('a\u0001"') == len('"a\\u0001\\""')
    assert credentialsize.text_bytes("証") == 5 and credentialsize.text_bytes(None) == 0


def test_the_issuers_profile_is_counted_in_every_credential(run, tmp_path):
    # (a hostile review: an issuer description of 20,000 CJK characters is in every credential
    # twice, issuer and achievement creator, and a 274 KB credential was not warned of)
    site = _site(tmp_path, 10, 5000, issuer_description=CJK * 2000)
    result = build(run, site)
    assert len(_credential(site)) > credentialsize.LIMIT
    assert "recipients/ann.yaml:8:5: warning[large-credential]" in result.err, result.err


def test_a_badge_that_grows_past_a_step_warns_its_awards_on_the_next_build(run, tmp_path):
    # A recipient file's result is kept while its bytes are; what it depends on of its badge is the
    # shared part of the credential's size, rounded up to a step: growing past one opens it again.
    site = _site(tmp_path, 14, 5000)  # about 215 KB: not over
    first = build(run, site)
    assert "large-credential" not in first.err and len(_credential(site)) < credentialsize.LIMIT
    badge = site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text().replace("criteria: Did the thing.", "criteria: " + CJK * 1900))
    second = build(run, site)
    assert len(_credential(site)) > credentialsize.LIMIT
    assert "recipients/ann.yaml:8:5: warning[large-credential]" in second.err, second.err


def test_the_shared_part_is_rounded_up_to_a_step():
    from badgekiln.models import BadgeClass, Issuer

    badge = BadgeClass(slug="b", name="B", description="d", image="a.svg", criteria="c")
    assert credentialsize.shared_part(badge, None) == credentialsize.STEP
    big = BadgeClass(slug="b", name="B", description="d", image="a.svg", criteria="c" * credentialsize.STEP)
    assert credentialsize.shared_part(big, Issuer("I", "https://i.example", "i@i.example")) == 2 * credentialsize.STEP


def test_a_pathways_components_and_a_long_base_url_are_counted():
    # (a review: 50 components named by 64-character slugs under a 190-character base URL put 17 KB
    # of related achievement URLs in every credential, which the estimate did not count)
    from badgekiln.models import BadgeClass, Pathway

    slugs = tuple(f"component-{n:02d}-" + "x" * 50 for n in range(50))
    base = "https://" + "b" * 180 + ".example/"
    plain = BadgeClass(slug="b", name="B", description="d", image="a.svg", criteria="c")
    stacked = BadgeClass(
        slug="b", name="B", description="d", image="a.svg", criteria="c", requires=Pathway(of=slugs, needed=50)
    )
    related = sum(len(base) + len(f"badges/{slug}/achievement.json") for slug in slugs)
    assert credentialsize.shared_part(stacked, None, base) - credentialsize.shared_part(
        plain, None, base
    ) >= related - (credentialsize.STEP)
    assert credentialsize.shared_part(stacked, None, base) >= related + credentialsize.URLS * len(base)
