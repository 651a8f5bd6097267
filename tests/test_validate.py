"""Validation collects every problem in one run, with locations and hints."""

import re

import pytest
from conftest import MINIMAL, TODAY, write_site

from badgekiln.formats import ids


def test_a_key_written_without_a_value_is_missing_where_the_record_starts(minimal_site, run):
    # (its hint is the line to write: the location stays the record's, as for a key not written;
    # a spreadsheet's empty cell is named where it is: test_spreadsheets)
    write_site(minimal_site, {"recipients/bob.yaml": "name: Bob\nemail:\nawards: []\n"})
    result = run("check", "--source", str(minimal_site))
    assert "recipients/bob.yaml:1:1: error[missing-key]: recipient 'bob' needs 'email'" in result.err, result.err


def test_every_error_is_reported_at_once_with_file_line_and_hint(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/bob.yaml": """
            name: Bob
            emial: bob@example.com
            awards:
              - badge: frist-badge
                issued_on: 2026-02-30
              - badge: first-badge
                issued_on: 2026-03-01
                expires: 2026-02-01
        """,
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    err = result.err
    assert "recipients/bob.yaml:1:1: error[missing-key]: recipient 'bob' needs 'email'" in err
    assert "recipients/bob.yaml:2:1: error[unknown-key]: unknown key 'emial'" in err
    assert "hint: did you mean 'email'?" in err
    assert "recipients/bob.yaml:4:12: error[unknown-badge]: there is no badge 'frist-badge'" in err
    assert "hint: did you mean 'first-badge'?" in err
    assert "recipients/bob.yaml:5:16: error[bad-date]: 'issued_on' is not a real date: 2026-02-30" in err
    assert "recipients/bob.yaml:8:14: error[bad-dates]: 'expires' (2026-02-01) must be after 'issued_on'" in err
    assert "Traceback" not in err
    assert "5 error(s)" in err


def test_check_writes_nothing(minimal_site, run):
    result = run("check", "--source", str(minimal_site))
    assert result.code == 0, result.err
    assert "1 badge(s), 1 recipient(s), 1 award(s)" in result.out
    assert not (minimal_site / "output").exists()
    assert not (minimal_site / "site_src" / "awards.lock").exists()


def test_duplicate_award_ids_name_both_places(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/bob.yaml": """
        name: Bob
        email: bob@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
    """
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert "error[duplicate-id]: award id 'ann-first-1' is also used at recipients/ann.yaml:4:5" in result.err
    assert "remove its 'id: ...' (keep the '- ' that starts the award) and the build gives it a new one" in result.err


def test_a_copied_id_is_blamed_on_the_copy_even_when_its_file_comes_first(minimal_site, run):
    """Ids are derived from the earner's email, the badge and the day: an id copied into another
    earner's file is not that earner's own, so the error goes to the copy, whichever file sorts
    first (it named the original, whose 'id:' line removed gave the same id back: a UX review)."""
    original = ids.derive_award_id("zoe@example.com", "first-badge", "2026-01-15", 0)
    write_site(
        minimal_site,
        {
            "recipients/zoe.yaml": f"""
        name: Zoe
        email: zoe@example.com
        awards:
          - id: {original}
            badge: first-badge
            issued_on: 2026-01-15
    """,
            "recipients/adam.yaml": f"""
        name: Adam
        email: adam@example.com
        awards:
          - badge: first-badge
            id: {original}
            issued_on: 2026-01-15
    """,
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert (
        f"recipients/adam.yaml:4:5: error[duplicate-id]: award id {original!r} is also used at recipients/zoe.yaml:4:5"
        in result.err
    )
    assert "remove its 'id: ...' (keep the '- ' that starts the award)" in result.err
    assert result.err.count("error[duplicate-id]") == 1


def test_an_empty_recipient_file_is_one_error_in_plain_words(minimal_site, run):
    # (UX review: four errors, the cause last; and Python's type names in messages)
    (minimal_site / "recipients/empty.yaml").write_text("")
    write_site(
        minimal_site,
        {
            "recipients/bob.yaml": """
        name: Bob
        email: bob@example.com
        awards:
          - badge: first-badge
            issued_on: 2026-01-15
            evidence: https://example.org/work
    """
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    empty = [line for line in result.err.splitlines() if line.startswith("recipients/empty.yaml")]
    assert len(empty) == 1 and "must be a mapping of 'key: value' lines, not nothing" in empty[0]
    assert "not the text 'https://example.org/work'" in result.err and " str " not in result.err


def test_bad_base_url_and_missing_issuer_fields(minimal_site, run):
    write_site(
        minimal_site,
        {
            "site_src/site.yaml": """
        base_url: badges.example.org
        issuer:
          name: Example
          url: https://example.org
    """
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert "site_src/site.yaml:1:11: error[bad-url]: 'base_url' must be an absolute https URL" in result.err
    assert "site_src/site.yaml:3:3: error[missing-key]: issuer needs 'email'" in result.err


def test_image_outside_site_src_is_refused(minimal_site, run):
    (minimal_site / "secret.svg").write_bytes(b"<svg/>")
    write_site(
        minimal_site,
        {
            "badges/first-badge.yaml": """
        name: First Badge
        description: The first badge.
        image: ../secret.svg
        criteria: Did the thing.
    """
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert (
        "badges/first-badge.yaml:3:8: error[bad-image]: image '../secret.svg' must be a file inside site_src/"
        in result.err
    )


def test_issuer_telephone_must_be_international(minimal_site, run):
    text = (minimal_site / "site_src/site.yaml").read_text()
    write_site(minimal_site, {"site_src/site.yaml": text + "  telephone: 555-1234\n"})
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1 and "error[bad-telephone]" in result.err
    write_site(minimal_site, {"site_src/site.yaml": text + "  telephone: +44 (1642) 000-000\n"})
    assert run("check", "--source", str(minimal_site)).code == 0


def test_achievement_type_and_url_characters_are_checked(minimal_site, run):
    write_site(
        minimal_site,
        {
            "badges/first-badge.yaml": """
        name: First Badge
        description: The first badge.
        image: assets/badge.svg
        criteria: Did the thing.
        achievement_type: Certficate
        alignment:
          - {name: X, url: "https://example.org/a b<c>"}
    """
        },
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert "badges/first-badge.yaml:5:19: error[bad-achievement-type]" in result.err
    assert "did you mean 'Certificate'?" in result.err
    assert "error[bad-url]: 'url' must be an absolute https or http URL" in result.err


@pytest.mark.parametrize("char", ["\ufeff", "\u200e", "\u200f", "\u061c"])
def test_a_url_with_a_character_verifiers_refuse_is_an_error(minimal_site, run, char):
    """A byte order mark in base_url made every credential fail in jsonld.js (JavaScript reads
    U+FEFF as a space, Python does not; a review found it): refused with its file and line, as are
    the bidirectional marks (RFC 3987 section 4.1). (Controls, bidirectional controls, lone
    surrogates and noncharacters are refused in any text of the sources already.)"""
    _base_url_below(minimal_site, f"{char}x")
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert "error[bad-url]: 'base_url' must be an absolute https URL" in result.err
    assert f"U+{ord(char):04X}" in result.err and "which verifiers refuse in a URL" in result.err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://bücher.example/", "write it as 'xn--bcher-kva.example'"),  # 1EdTech validator: "not valid"
        ("https://xn--zz.example/", "is not valid punycode"),  # JavaScript's URL parser throws
        ("https://example.org/%zz", "not followed by two hexadecimal digits"),  # RFC 3986 section 2.1
        ("https://example.org/a%", "not followed by two hexadecimal digits"),
        ("https://example.org/#a#b", "a second '#'"),  # RFC 3986 section 3.5
        ("https://example.org/q?x=[1]", "outside an IPv6 host"),  # RFC 3986 section 3.2.2
        ("https://xn--a.example/", "is not valid punycode"),  # (decodes to U+0080: IDNA refuses it)
        ("https://[v1.evil.example]/", "has characters that no host name has"),  # urllib: host v1.evil.example
        ("https://[::1]x:99/", "has characters that no host name has"),  # urllib: port 99
        ("https://127.1/", "is the IPv4 address 127.0.0.1 to browsers"),  # WHATWG: ends in a number
        ("https://0x7f.1/", "is the IPv4 address 127.0.0.1 to browsers"),
        ("https://2130706433/", "is the IPv4 address 127.0.0.1 to browsers"),
        ("https://0177.0.0.1/", "is the IPv4 address 127.0.0.1 to browsers"),
        ("https://203.0.113.7./", "is the IPv4 address 203.0.113.7 to browsers"),  # (serialized without the dot)
        ("https://1.2.3.4.5/", "ends in a number, so browsers read it as an IPv4 address"),
        ("https://badges.example.0x1/", "ends in a number, so browsers read it as an IPv4 address"),
    ],
)
def test_urls_other_verifiers_refuse_are_errors(minimal_site, run, url, said):
    """An interop review (2026-12-04) built sites with these as an alignment's URL: the 1EdTech
    validator, Digital Bazaar's or the DCC verifier refused the badge. Refused at the source."""
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text() + f'alignment:\n  - {{name: X, url: "{url}"}}\n', encoding="utf-8")
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert "error[bad-url]" in result.err and said in result.err


def test_no_ascii_form_is_advised_where_idna_2003_and_2008_differ():
    """Python's codec is IDNA 2003, which turns ß into ss: advising 'strasse.de' for 'straße.de'
    would name another domain (IDNA 2008's form is xn--strae-oqa.de)."""
    from badgekiln.sources.fields import url_problem

    said = url_problem("https://straße.de/")
    assert said is not None and "not in its ASCII form" in said and "strasse" not in said


@pytest.mark.parametrize(
    "url",
    [
        "https://xn--caf-dma.example/",
        "https://[::1]:8443/a",
        "https://example.org/a%20b#c?d",
        "https://203.0.113.7/a",  # (four decimal numbers: the one spelling every reader takes alike)
        "https://x1.example.org2/",  # (a last label with letters is a name)
    ],
)
def test_urls_verifiers_read_alike_are_accepted(url):
    from badgekiln.sources.fields import url_problem

    assert url_problem(url) is None


@pytest.mark.parametrize("path", ["a%2Fb", "a%2fb", "a%3Ab", "x%25y"])
def test_a_base_url_whose_did_web_is_ambiguous_is_an_error(minimal_site, run, path):
    """did:web decodes each path segment: with an encoded '/', ':' or '%' in its path, the site's
    DID named another folder (the DCC verifier and openbadgeslib fetched .../a/b/did.json)."""
    _base_url_below(minimal_site, path)
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1
    assert "error[bad-url]" in result.err and "did:web identifier cannot say such a path" in result.err


def test_an_accent_colour_too_light_to_read_is_a_warning_with_a_darker_shade(minimal_site, run):
    """(a visual audit: a brand yellow, #f5c518, made every link, button and badge name 1.6:1 on
    white, and white on the primary button the same; the build said nothing)"""
    from badgekiln.sources.config import contrast_with_page

    site_yaml = minimal_site / "site_src/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + 'accent_color: "#f5c518"\n')
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err  # (a warning: the colour is the provider's to choose)
    assert "warning[low-contrast]: 'accent_color' #f5c518 against the page has a contrast of 1.5:1" in result.err
    shade = re.search(r'hint: a darker shade of it reads well: accent_color: "(#[0-9a-f]{6})"', result.err).group(1)
    assert 4.5 <= contrast_with_page(shade) < 4.7  # (on the page's #f6f7f9, where links are, not only on white)
    site_yaml.write_text(site_yaml.read_text().replace("#f5c518", shade))
    assert "low-contrast" not in run("check", "--source", str(minimal_site), "--today", TODAY).err
    site_yaml.write_text(site_yaml.read_text().replace(shade, "#767676"))  # (4.54:1 on white, 4.2:1 on the page)
    assert "low-contrast" in run("check", "--source", str(minimal_site), "--today", TODAY).err
    # unquoted, the colour is a YAML comment: said, not silently the default
    site_yaml.write_text(site_yaml.read_text().replace('accent_color: "#767676"', "accent_color: #b03a2e"))
    unquoted = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert "warning[empty-value]: 'accent_color' is empty" in unquoted.err
    assert 'hint: write the colour in quotes: accent_color: "#rrggbb"' in unquoted.err


def test_an_award_issued_in_the_future_is_an_error(minimal_site, run):
    text = (minimal_site / "recipients/ann.yaml").read_text().replace("2026-01-15", "2026-12-01")
    write_site(minimal_site, {"recipients/ann.yaml": text})
    result = run("check", "--source", str(minimal_site), "--today", "2026-11-22")
    assert result.code == 1 and "recipients/ann.yaml:6:16: error[future-date]" in result.err
    assert run("check", "--source", str(minimal_site), "--today", "2026-12-01").code == 0


def test_a_key_written_for_another_gets_the_right_hint(minimal_site, run):
    # (first-time provider review: 'expires' in a badge class got "did you mean 'requires'?", and
    # following that hint gave another error)
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text() + "expires: 31/12/2026\n")
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    date: 2026-02-01\n")
    err = run("check", "--source", str(minimal_site)).err
    assert (
        "unknown key 'expires' in badge 'first-badge'\n  hint: how long awards of this badge last is 'valid_for: P3Y'"
        in err
    )
    assert "unknown key 'date'" in err and "hint: the day of an award is 'issued_on: YYYY-MM-DD'" in err


def test_a_badge_written_by_its_name_in_a_recipient_file_gets_its_slug(minimal_site, run):
    # (first-time provider review: 'badge: Sea Survival' was "must use only a-z, 0-9 and '-'",
    # while award --badge and sheets take names)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("badge: first-badge", "badge: First Badge"))
    err = run("check", "--source", str(minimal_site)).err
    assert "error[bad-identifier]: 'badge' names a badge by its file name, not its name (got 'First Badge')" in err
    assert "hint: write 'badge: first-badge'" in err


def test_a_date_written_the_local_way_gets_it_year_month_day(minimal_site, run):
    # (first-time provider review: 31/12/2026 in a YAML file got no hint)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("issued_on: 2026-01-15", "issued_on: 15/01/2026\n    expires: 03/04/2027"))
    err = run("check", "--source", str(minimal_site)).err
    assert "hint: write it year-month-day: issued_on: 2026-01-15" in err
    assert "hint: write it year-month-day: expires: 2027-04-03 (day first) or 2027-03-04 (month first)" in err


def test_a_file_name_with_spaces_gets_a_name_to_use(minimal_site, run):
    # (first-time provider review: "Tom Walsh.yaml … is not a valid slug" was jargon, with no name to use)
    (minimal_site / "recipients/ann.yaml").rename(minimal_site / "recipients/Ann Éxample.yaml")
    err = run("check", "--source", str(minimal_site)).err
    assert "the file name 'Ann Éxample.yaml' is not a valid slug" in err
    assert "hint: rename it to ann-example.yaml (file names use only a-z, 0-9 and '-')" in err


def test_a_windows_path_and_a_jpeg_get_what_to_write(minimal_site, run):
    # (first-time provider review: 'assets\\logo.png' was "must be in site_src/assets/ … move it
    # to site_src/assets/", where it already was; a .jpg got no way forward)
    site = minimal_site / "site_src/site.yaml"
    site.write_text(
        site.read_text().replace(
            "  email: badges@example.org", "  email: badges@example.org\n  image: assets\\logo.png"
        )
    )
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text().replace("image: assets/badge.svg", "image: assets/badge.jpg"))
    err = run("check", "--source", str(minimal_site)).err
    assert "hint: write image: assets/logo.png, with '/' between folder and file" in err
    assert "image 'assets/badge.jpg' must be a .png or .svg file\n  hint: save it as PNG" in err


def _base_url_below(site, segment: str) -> None:
    """Make the site's base_url end in the path segment ``segment`` (quoted for YAML)."""
    path = site / "site_src/site.yaml"
    text = path.read_text()
    base = next(line for line in text.splitlines() if line.startswith("base_url:")).split(": ", 1)[1].strip()
    path.write_text(text.replace(base, f'"{base.rstrip("/")}/{segment}/"', 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("where", "text", "said"),
    [
        ("badges/first-badge.yaml", "tags: [" + ", ".join(f"t{i}" for i in range(201)) + "]\n", "'tags' has 201 items"),
        (
            "recipients/ann.yaml",
            None,
            "'evidence' has 1,001 items; at most 1,000 (a verifier, openbadgeslib, refuses a credential of more than",
        ),
    ],
)
def test_lists_longer_than_a_verifier_takes_are_errors(minimal_site, run, where, text, said):
    # (an interop sweep: openbadgeslib refused a credential with 1,500 tags or 1,700 evidence entries)
    path = minimal_site / where
    if text is None:
        evidence = "".join(f"      - url: https://example.org/e/{i}\n" for i in range(1001))
        text = path.read_text().replace(
            "    issued_on: 2026-01-15\n", "    issued_on: 2026-01-15\n    evidence:\n" + evidence, 1
        )
        assert "evidence:" in text
        path.write_text(text)
    else:
        path.write_text(path.read_text() + text)
    result = run("check", "--source", str(minimal_site), "--today", "2026-11-22")
    assert result.code == 1 and "error[too-many]" in result.err and said in result.err, result.err


@pytest.mark.parametrize("blank", ["\u3164", "\u2800\u2800", "\u115f\u1160", " \u3164 ", "\u034f\ufe0f", "\U000e0100"])
def test_a_name_of_letters_that_draw_nothing_is_empty(minimal_site, run, blank):
    # (a review: a Hangul filler or a blank braille pattern made a "name" that shows nothing)
    path = minimal_site / "recipients/ann.yaml"
    path.write_text(path.read_text().replace("name: Ann Example", f'name: "{blank}"'))
    result = run("check", "--source", str(minimal_site), "--today", "2026-11-22")
    assert (
        result.code == 1
        and "error[empty]: 'name' must not be empty: it holds only characters that show nothing" in result.err
    )


@pytest.mark.parametrize("path", ["/x/../dept/", "/./dept/", "/dept/%2e%2e/dept/"])
def test_a_base_url_with_dot_segments_is_an_error(minimal_site, run, path):
    # (a review: https://uni.example/x/../dept/ is /dept/ under another name, and its did:web
    # did:web:uni.example:x:..:dept passed the check that refuses a site's own DID as an endorser)
    site_yaml = minimal_site / "site_src/site.yaml"
    site_yaml.write_text(re.sub(r"base_url: \S+", f"base_url: https://uni.example{path}", site_yaml.read_text()))
    result = run("check", "--source", str(minimal_site), "--today", "2026-11-22")
    assert result.code == 1 and "has a '.' or '..' segment" in result.err, result.err


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("https://badges.example.org:443/", "https://badges.example.org/"),
        ("http://localhost:80/b/", "http://localhost/b/"),
    ],
)
def test_a_base_url_with_its_schemes_default_port_is_warned_of_and_kept(minimal_site, run, written, used):
    # (a review, 2026-12-07: ids said ':443', which browsers drop from a page's address, so the
    # page's own Verify called every badge "a signing key of another site"; a second review: a
    # rewrite changed the identity of every credential a site had published with it)
    site_yaml = minimal_site / "site_src/site.yaml"
    site_yaml.write_text(re.sub(r"base_url: \S+", f"base_url: {written}", site_yaml.read_text()))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "warning[default-port]" in result.err, result.err
    assert f"hint: write it as '{used}' (for a site that has published badges, that changes" in result.err
    credential = (minimal_site / "output/awards/ann-first-1/credential.json").read_text()
    assert f'"{written}awards/ann-first-1/' in credential  # (its ids as written: a site's identity is not rewritten)


@pytest.mark.parametrize("host", ["a..b", ".badges.example", "badges..example.org"])
def test_a_base_url_host_with_an_empty_part_is_an_error(minimal_site, run, host):
    site_yaml = minimal_site / "site_src/site.yaml"
    site_yaml.write_text(re.sub(r"base_url: \S+", f"base_url: https://{host}/", site_yaml.read_text()))
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "has an empty part between dots" in result.err, result.err


def test_an_image_path_written_from_the_sites_folder_is_told_the_path_to_write(minimal_site, run):
    # (UX walkthrough: 'image: site_src/assets/x.png' was told only "relative to site_src/")
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text().replace("image: assets/badge.svg", "image: site_src/assets/badge.svg"))
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "error[missing-image]" in result.err
    assert "hint: write it without 'site_src/': image: assets/badge.svg" in result.err, result.err


def test_an_award_pasted_twice_is_warned_of(run, tmp_path):
    # (a provider's review: two identical items in one file were published twice, under two ids,
    # while `check` said "ok")
    files = dict(MINIMAL)
    item = "  - badge: first-badge\n    issued_on: 2026-04-01\n"
    files["recipients/ann.yaml"] = "name: Ann Example\nemail: ann@example.com\nawards:\n" + item + item
    site = write_site(tmp_path / "site", files)
    result = run("check", "--source", str(site), "--today", TODAY)
    assert result.code == 0, result.err
    assert (
        "recipients/ann.yaml:6:5: warning[repeated-award]: this award repeats the one at line 4 (first-badge, "
        "issued on 2026-04-01): both are published, under two ids"
    ) in result.err
    assert result.err.count("repeated-award") == 1
    # another day, or a revoked first one given again the same day, is not a repeat
    files["recipients/ann.yaml"] = (
        "name: Ann Example\nemail: ann@example.com\nawards:\n"
        + item
        + item.replace("04-01", "04-02")
        + "  - badge: first-badge\n    issued_on: 2026-05-01\n    revoked: {on: 2026-05-02, reason: wrong}\n"
        + "  - badge: first-badge\n    issued_on: 2026-05-01\n"
    )
    site = write_site(tmp_path / "site2", files)
    result = run("check", "--source", str(site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "repeated-award" not in result.err, result.err


def test_a_renamed_badge_file_with_published_awards_says_to_name_it_back(run, tmp_path):
    # (a provider's review: after `git mv badges/sea-survival.yaml badges/sea-survival-basic.yaml`
    # every award said "did you mean 'sea-survival-basic'?", and doing so moved every published
    # credential to another badge class)
    site = write_site(tmp_path / "site", MINIMAL)
    assert run("build", "--source", str(site), "--today", TODAY).code == 0
    (site / "badges/first-badge.yaml").rename(site / "badges/first-badge-basic.yaml")
    result = run("check", "--source", str(site), "--today", TODAY)
    assert result.code == 1
    assert "recipients/ann.yaml:5:12: error[unknown-badge]: there is no badge 'first-badge'" in result.err, result.err
    assert (
        "hint: 1 published award(s) are 'first-badge' badges (site_src/awards.lock), and a badge's file name is in "
        "their credentials and pages: if you renamed or moved badges/first-badge.yaml, give it that name again"
    ) in result.err
    assert "did you mean" not in result.err
    # a badge no award was published as keeps its "did you mean"
    text = (site / "recipients/ann.yaml").read_text()
    (site / "recipients/ann.yaml").write_text(text + "  - badge: first-badge-basik\n    issued_on: 2026-02-01\n")
    result = run("check", "--source", str(site), "--today", TODAY)
    assert "there is no badge 'first-badge-basik'" in result.err and "did you mean 'first-badge-basic'" in result.err


def _assert_refused_with_hint(run, tmp_path, value: str, written: str, code: str, hint: str) -> None:
    """The minimal site with ``value`` in Ann's file written as ``written``: refused with ``code``, hinted."""
    files = dict(MINIMAL)
    files["recipients/ann.yaml"] = MINIMAL["recipients/ann.yaml"].replace(value, f'"{written}"')
    result = run("check", "--source", str(write_site(tmp_path / "site", files)), "--today", TODAY)
    assert result.code == 1 and f"error[{code}]" in result.err
    assert f"hint: {hint}" in result.err, result.err


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("Ann Example <ann@example.com>", "write the address alone: ann@example.com"),
        ("mailto:ann@example.com", "write the address alone: ann@example.com"),
        ("ann@example .com", "an address has no spaces: ann@example.com"),
        ("ann@exаmple.com", "its domain holds 'а' (U+0430, CYRILLIC SMALL LETTER A), which is not a Latin letter"),
    ],
)
def test_an_address_refused_says_what_to_put_right_when_it_can(run, tmp_path, given, hint):
    # (a provider's review: "'email' is not a valid email address" with no word why, over an
    # address that looks right as printed, or as a mail program copies it)
    _assert_refused_with_hint(run, tmp_path, "ann@example.com", given, "bad-email", hint)


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("2026-4-1", "write it year-month-day: issued_on: 2026-04-01"),
        ("4 April 2026", "write it year-month-day: issued_on: 2026-04-04"),
        ("April 4, 2026", "write it year-month-day: issued_on: 2026-04-04"),
        ("03/04/2026", "write it year-month-day: issued_on: 2026-04-03 (day first) or 2026-03-04 (month first)"),
    ],
)
def test_a_date_written_another_way_gets_its_iso_form_as_a_hint(run, tmp_path, written, hint):
    # (a provider's review: only the local d/m/y way had a hint)
    _assert_refused_with_hint(run, tmp_path, "2026-01-15", written, "bad-date", hint)


@pytest.mark.parametrize(
    "command", [["revoke", "ann-first-1", "--reason", "x", "--on"], ["report", "expiring", "--today"]]
)
def test_a_date_option_written_another_way_gets_its_iso_form(run, minimal_site, command):
    result = run(*command, "03/04/2026", "--source", str(minimal_site))
    assert result.code == 2
    option = command[-1]
    assert (
        f"'03/04/2026' is not a date written YYYY-MM-DD; write it year-month-day: {option} 2026-04-03 (day first) "
        "or 2026-03-04 (month first)"
    ) in result.err, result.err


def test_markdown_in_site_src_pages_that_is_not_read_is_said(minimal_site, run):
    # (a provider's review: About.MD, faq.markdown and sub/x.md were skipped without a word)
    pages = minimal_site / "site_src/pages"
    (pages / "sub").mkdir(parents=True)
    page = "---\ntitle: About\n---\nText.\n"
    for name in ("About.MD", "faq.markdown", "sub/x.md", "About Us.md", "about.md"):
        (pages / name).write_text(page)
    (pages / "diagram.png").write_bytes(b"\x89PNG")  # (a picture kept beside the pages: not said)
    (pages / "images").mkdir()  # (nor a folder of them)
    (pages / "img\\old").mkdir()  # (nor one whose name cannot be listed: the rest is still said)
    (pages / "images/logo.png").write_bytes(b"\x89PNG")
    for name in ("README.md", ".#about.md", "Help.md"):  # (a README, an editor's lock file: not pages)
        (pages / name).write_text(page)
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    err = result.err
    assert "site_src/pages/About.MD: warning[unexpected-file]: this page is not read" in err
    assert "hint: about.md is a page already: merge the two, or delete this one" in err
    assert "hint: rename it to help.md" in err
    assert "site_src/pages/faq.markdown: warning[unexpected-file]" in err and "rename it to faq.md" in err
    assert "site_src/pages/sub: warning[unexpected-folder]: this folder is not read" in err
    assert "site_src/pages/About Us.md: error[bad-file-name]" in err and "rename it to about-us.md" in err
    assert "diagram.png" not in err and "images" not in err and "README" not in err and ".#about" not in err


@pytest.mark.parametrize(
    ("rel", "edit"),
    [
        ("badges/first-badge.yaml", lambda text: text.replace("The first badge.", "Ask ann@example.com.")),
        (
            "badges/first-badge.yaml",
            lambda text: text.replace("Did the thing.", "'Write to [Ann](mailto:ANN@example.com)'"),
        ),
        ("site_src/site.yaml", lambda text: text + "footer: Questions? ann&#64;example.com\n"),
        ("site_src/pages/about.md", lambda text: "---\ntitle: About\n---\nOur graduate ann%40example.com says hi.\n"),
    ],
)
def test_an_earners_address_in_a_badge_page_or_the_sites_settings_is_warned_of(minimal_site, run, rel, edit):
    """A review (2026-12-07): an earner's address in a badge's description, a page or the
    footer was published on every page, with no warning: only recipient files were checked. A
    warning, not an error: the provider's coordinator may be an earner too (a second review)."""
    path = minimal_site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(edit(path.read_text() if path.exists() else ""))
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    said = "warning[earner-email-published]: this file's text holds the email address of an earner"
    assert result.code == 0 and said in result.err, result.err
    assert f"{rel}" in result.err


def test_a_contact_address_that_is_no_earners_is_published_as_written(minimal_site, run):
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text().replace("The first badge.", "Ask training@example.org or badges@example.org."))
    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    assert "training@example.org" in (minimal_site / "output/badges/first-badge/index.html").read_text()


@pytest.mark.parametrize("value", ["١٢٣٤", "123²", "12 34", "abc"])
def test_a_linkedin_organization_id_must_be_ascii_digits(minimal_site, run, value):
    # (a review, 2026-12-07: str.isdigit took Arabic-Indic digits and '²', and every "Add to
    # LinkedIn" link then carried them, broken)
    site_yaml = minimal_site / "site_src/site.yaml"
    site_yaml.write_text(site_yaml.read_text() + f"linkedin_organization_id: '{value}'\n")
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "error[bad-linkedin-id]" in result.err, result.err
