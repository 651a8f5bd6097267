/* "Check a badge file" (check/index.html): someone hands a verifier a badge image or file; this
   page reads it in the browser (nothing is uploaded), finds the badge in it, and compares it
   with what this site publishes at the address the badge names. A file that is exactly the
   published badge is sent on to that badge's page, whose Verify checks every proof and its
   status. Only this site is ever fetched: a badge that names another site is said to be
   another site's, and its addresses are not followed. Everything written into the page goes in
   as text (textContent), never as HTML.

   What it reads (Open Badges 2.0 "Baking", 3.0 §5.3): a PNG's iTXt chunk "openbadges" (2.0) or
   "openbadgecredential" (3.0); an SVG's <openbadges:assertion> or <openbadges:credential>; a
   credential or assertion as JSON; a VC-JWT (credential.jwt) or a signed assertion (JWS). */
(function () {
  "use strict";

  var form = document.getElementById("check-file");
  if (!form) { return; }
  var input = document.getElementById("check-file-input");
  var zone = form.querySelector(".drop-zone");
  var result = document.getElementById("check-result");
  var root = new URL(form.getAttribute("data-root") || "../", location.href);
  // The addresses a badge of this site names: its configured ones (a site is also served at aliases,
  // a www or a *.pages.dev host, and a preview at another) and the one it is viewed at.
  var sites = (form.getAttribute("data-sites") || "").split(" ").filter(Boolean).map(function (u) {
    return new URL(u);
  }).concat([root]);

  var MAX_FILE = 16 * 1024 * 1024;  // bytes: a baked badge image is well under 1 MB
  var MAX_TEXT = 4 * 1024 * 1024;  // characters of the badge a file carries (a credential: a few KB)
  var OB2_NS = "http://openbadges.org", OB3_NS = "https://purl.imsglobal.org/ob/v3p0";
  var AWARD_ID = /^[a-z0-9][a-z0-9-]{3,63}$/;  // (sources/fields.py AWARD_ID_RE)
  var PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

  form.hidden = false;
  var noscript = document.querySelector(".check-needs-script");
  if (noscript) { noscript.hidden = true; }
  input.addEventListener("change", function () {
    if (input.files && input.files.length) { check(input.files[0]); }
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) { check(files[0]); }
  });

  /** Show a verdict: ``kind`` found, invalid or incomplete; ``lines``: sentences; ``link``: {href, text}. */
  function show(kind, lines, link) {
    result.textContent = "";
    result.hidden = false;
    result.setAttribute("data-verdict", kind);
    lines.forEach(function (line, index) {
      var p = document.createElement("p");
      if (index === 0) {
        var strong = document.createElement("strong");
        strong.textContent = line;
        p.appendChild(strong);
      } else {
        p.textContent = line;
      }
      result.appendChild(p);
    });
    if (link) {
      var p = document.createElement("p");
      var a = document.createElement("a");
      a.className = "button";
      a.href = link.href;
      a.textContent = link.text;
      p.appendChild(a);
      result.appendChild(p);
    }
  }

  function verdict(kind, lines, link) { return {kind: kind, lines: lines, link: link || null}; }

  /** A value a file holds, as text to show (quoted): a string as it is, anything else as JSON
      (never "undefined" or "[object Object]"). */
  function shown(value) {
    return quoted(typeof value === "string" ? value : JSON.stringify(value === undefined ? null : value), 300);
  }

  /** Whether a value is an http(s) address that URL reads (spaces around it allowed, as URL takes them). */
  function webAddress(value) {
    if (typeof value !== "string") { return false; }
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch (error) {
      return false;
    }
  }

  /** A text from a file, isolated in its own direction (bidirectional controls in it shown as
      U+FFFD) and cut at ``limit`` characters (200). */
  function quoted(text, limit) {
    text = String(text).replace(/[\u202A-\u202E\u2066-\u2069]/g, "\uFFFD");  // (its own controls: never ours)
    return "\u2068" + (text.length > (limit || 200) ? text.slice(0, limit || 200) + "…" : text) + "\u2069";
  }

  var latest = 0;  // (only the last file chosen is reported: an earlier check may end after it)

  async function check(file) {
    var mine = ++latest;
    result.removeAttribute("data-verdict");
    result.hidden = false;
    result.textContent = "Reading " + quoted(file.name) + "…";
    var said;
    try {
      said = await checkFile(file);
    } catch (error) {
      said = verdict("incomplete", ["Could not check " + quoted(file.name) + ".", "Something went wrong while " +
        "checking it (" + String(error && error.message || error) + "). The badge is not shown to be genuine or not."]);
    }
    if (mine === latest) { show(said.kind, said.lines, said.link); }
  }

  async function checkFile(file) {
    var name = quoted(file.name);
    if (file.size > MAX_FILE) {
      return verdict("invalid", [name + " is not a badge file.", "It is larger than 16 MB; no badge image or " +
        "credential is that large."]);
    }
    var bytes = new Uint8Array(await file.arrayBuffer());
    var found;
    try {
      found = await carried(bytes);
    } catch (error) {
      return verdict("invalid", ["No badge could be read from " + name + ".", String(error.message || error)]);
    }
    if (!found) {
      return verdict("invalid", ["No badge was found in " + name + ".", "A badge image carries its badge " +
        "inside it (a PNG or SVG downloaded from a badge page); a credential is a .json, .jwt or .jws file. " +
        "This file is none of those: a picture of a badge, or a screenshot, cannot be checked."]);
    }
    var badge;
    try {
      badge = understood(found);
    } catch (error) {
      return verdict("invalid", ["The badge in " + name + " cannot be read.", String(error.message || error)]);
    }
    var address = null;
    try {
      address = webAddress(badge.id) ? new URL(badge.id) : null;
    } catch (error) {
      address = null;
    }
    if (!address) {
      return verdict("invalid", ["The badge in " + name + " has no address.", "It names no web address where " +
        "its issuer publishes it (" + (badge.id === undefined || badge.id === null ? "it has no id" : "its id is " +
        shown(badge.id)) + (badge.image ? (badge.image.value === undefined || badge.image.value === null ?
        ", and it names no image" : ", and its image is " + shown(badge.image.value)) : "") + "), so it cannot " +
        "be compared with a published badge."]);
    }
    var award = awardOf(address, badge.names);
    if (!award) {
      return verdict("invalid", ["This badge was not issued on this site.", "It names " + quoted(address.href, 300) +
        ", not an award of " + sites[0].href + ". Check it on the site of the issuer it names, or with any Open " +
        "Badges verifier; this page follows no address a file gives."]);
    }
    var pageUrl = new URL("awards/" + award + "/", root);
    var published = new URL(badge.file, pageUrl);
    var seePage = {href: pageUrl.href, text: "See the badge as this site publishes it"};
    if (badge.addressOnly) {
      return verdict("incomplete", [name + " names a badge of this site but does not carry it.", "It holds only " +
        "the address " + quoted(address.href, 300) + ", not the badge itself, so there is nothing in it to " +
        "compare. Rely on the badge's page, not on the file."], seePage);
    }
    var text, publishedBytes;
    try {
      var got = await fetchBadge(published);
      publishedBytes = got.bytes;
      text = got.text;
    } catch (error) {
      if (error.gone) {
        return verdict("invalid", ["This badge was withdrawn.", "This site answers that " + published.href +
          " is gone (HTTP 410), which Open Badges 2.0 reads as revoked."], seePage);
      }
      if (error.missing) {
        return verdict("invalid", ["Not issued here: this site publishes no such badge.", "The badge names " +
          quoted(address.href, 300) + ", but this site has nothing at that address (HTTP 404): it never issued " +
          "that badge, or its address was changed."]);
      }
      return verdict("incomplete", ["Could not check: " + String(error.message || error) + ".", "The published " +
        "badge could not be downloaded, so the file was not compared with it. Try again later; the badge " +
        "is not shown to be genuine or not."]);
    }
    var compared = text === null ? {how: null, value: null} : sameBadge(badge, text), same = compared.how;
    if (same === null) {
      return verdict("incomplete", ["Could not check: this site's " + badge.file + " cannot be read.", "The " +
        "published badge at " + published.href + " could not be read, so the file was not compared with it. " +
        "Try again later; the badge is not shown to be genuine or not."]);
    }
    if (same !== true && same !== "written") {
      return verdict("invalid", ["Not the badge this site publishes: do not rely on " + name + ".", "It differs " +
        "from the " + badge.what + " this site publishes at " + published.href + " (" + same + "). Either it " +
        "was changed after it was issued, or it is an older copy from before the issuer changed the badge (its " +
        "text, dates, revocation or signature). The badge's page shows the badge as it stands."], seePage);
    }
    // The same badge: is this file the very file this site publishes (an image: its image, picture and all)?
    var file = found.published ? new URL(found.published, pageUrl) : published;
    var bytesSame, marks = null, unread = null;
    try {
      var publishedFile = file === published ? publishedBytes : await fetchImage(file);
      bytesSame = sameBytes(bytes, publishedFile);
      marks = bytesSame ? null : bomsDiffer(bytes, publishedFile);
    } catch (error) {
      bytesSame = false;
      unread = error;  // (404: an image this site does not publish, an SVG of a badge with PNG artwork, say)
    }
    var assertion = badge.kind === 2 && !badge.compact ? compared.value : null;  // (a hosted 2.0 assertion)
    var revoked = isObject(assertion) && assertion.revoked === true;
    var status = revoked ? " This site's assertion says its issuer revoked it" + (typeof assertion.revocationReason ===
      "string" ? " (" + quoted(assertion.revocationReason) + ")" : "") + "." : "";
    if (same === true && bytesSame) {
      return verdict(revoked ? "invalid" : "found", [name + " is a badge this site publishes" + (revoked ?
        ", revoked by its issuer." : "."), "It is, byte for byte, the file this site publishes at " + file.href +
        "." + (revoked ? status + " Its page says so too, and checks its signatures." : " Whether it is still " +
        "valid (not revoked, suspended or expired) and its signatures were not checked here: its page checks " +
        "them.")],
        {href: new URL("#verify", pageUrl).href, text: "Open the badge's page and verify it"});
    }
    var unknown = same === true && unread !== null && !unread.missing && !unread.gone;  // (maybe its very file)
    return verdict(revoked ? "invalid" : "incomplete", [name + " carries a badge of this site" + (unknown ? "; " +
      "whether it is the very file this site publishes was not checked." : ", but is not its file."),
      (same === true ? "What it carries is the " + badge.what + " published at " + published.href + ", but " +
        (unread === null ? "the file itself is not the one this site publishes at " + file.href + (found.image ?
          " (its picture or another part of the image differs)" : marks ? " (" + marks + ")" :
          " (it is written with other spacing)") : unknown ? "the file itself could not be compared with the one " +
          "this site publishes: " + String(unread.message || unread) : "this site publishes no file " +
          "at " + file.href + " (HTTP " + (unread.gone ? "410" : "404") + "), so the file itself is not one it " +
          "publishes") :
        "What it carries is not the " + badge.what + " published at " + published.href + ", though some " +
        "programs read it as the same (another program saved it again, or it holds a member twice, which " +
        "programs read differently)") + "." + status + " Rely on the badge's page, not on the file."], seePage);
  }

  // --- What a file carries --------------------------------------------------------------------

  /** {text, where} of the badge a file carries, or null when it carries none. */
  async function carried(bytes) {
    if (startsWith(bytes, PNG_SIGNATURE)) { return pngBadge(bytes); }
    var text;
    try {
      text = new TextDecoder("utf-8", {fatal: true}).decode(bytes).replace(/^\uFEFF/, "");
    } catch (error) {
      return null;  // (not text, not a PNG: a JPEG, a PDF…)
    }
    var trimmed = text.trim();
    if (/^<(\?xml|svg|!DOCTYPE svg|!--)/i.test(trimmed) && /<svg[\s>]/i.test(trimmed)) { return svgBadge(trimmed); }
    if (/^[{\[]/.test(trimmed) || /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(trimmed)) {
      if (trimmed.length > MAX_TEXT) { throw new Error("It is larger than 4 MiB: too large to be a badge."); }
      return {text: trimmed, where: "the file"};
    }
    return null;
  }

  async function pngBadge(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var at = 8, found = [], ended = false;
    // Every chunk is looked at, to the file's last byte: a second badge anywhere (a zTXt beside the
    // iTXt, a chunk after IEND) would be the one another reader takes.
    while (at < bytes.length) {
      if (ended) { throw new Error("The PNG has data after the end of its image: not a badge image as made."); }
      if (at + 12 > bytes.length) { throw new Error("The PNG is cut short or damaged."); }
      var length = view.getUint32(at);
      var type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
      var start = at + 8, end = start + length;
      if (length > 0x7fffffff || end + 4 > bytes.length) { throw new Error("The PNG is cut short or damaged."); }
      if (type === "iTXt" || type === "tEXt" || type === "zTXt") {
        var chunk = bytes.subarray(start, end);
        var nul = chunk.indexOf(0);
        var keyword = nul > 0 ? latin1(chunk.subarray(0, nul)) : "";
        if (keyword.toLowerCase() === "openbadges" || keyword.toLowerCase() === "openbadgecredential") {
          found.push({keyword: keyword, type: type, rest: chunk.subarray(nul + 1)});
        }
      }
      ended = type === "IEND";
      at = end + 4;
    }
    if (!ended) { throw new Error("The PNG is cut short or damaged (it has no end)."); }
    if (found.length > 1) {  // (before any is read: each may be a compressed 4 MiB)
      throw new Error("The PNG carries " + found.length + " badges; a badge image carries one (Open Badges " +
        "Baking: one iTXt chunk), so which one it stands for cannot be told.");
    }
    if (!found.length) { return null; }
    var credential = found[0].keyword.toLowerCase() === "openbadgecredential";
    return {text: (await chunkText(found[0].type, found[0].rest)).trim(), image: true, expect: credential ? 3 : 2,
      published: credential ? "credential.png" : "badge.png", where: "the PNG's " + found[0].keyword + " chunk"};
  }

  /** The text of a chunk after its keyword: iTXt (UTF-8, inflated if compressed), tEXt, zTXt (Latin-1). */
  async function chunkText(type, rest) {
    if (type === "tEXt") { return latin1(rest); }
    if (type === "zTXt") { return latin1(await inflate(rest.subarray(1))); }  // (its compression method, then zlib)
    var compressed = rest[0], at = 2;
    for (var n = 0; n < 2; n++) {  // the language tag and the translated keyword, each ending in a NUL
      var nul = rest.indexOf(0, at);
      if (nul < 0) { throw new Error("The PNG's badge chunk is damaged."); }
      at = nul + 1;
    }
    var data = rest.subarray(at);
    if (compressed === 1) { data = await inflate(data); }
    if (data.length > MAX_TEXT) { throw new Error("The badge in the PNG is too large to be a badge."); }
    return new TextDecoder("utf-8", {fatal: true}).decode(data);
  }

  async function inflate(data) {
    if (!window.DecompressionStream) { throw new Error("This browser cannot read a compressed badge chunk."); }
    var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
    return await readStream(stream.getReader(), MAX_TEXT, "The badge in the PNG is too large to be a badge.");
  }

  function svgBadge(text) {
    // What a reader matching text would take: an element named so in a comment, in capitals, or one
    // an entity would make (declared in the file: a badge image declares none) is another badge.
    if (/<!ENTITY/i.test(text)) { throw new Error("The SVG declares entities: not a badge image as made."); }
    var opened = text.match(/<\s*[\w.-]*:?(assertion|credential)[\s>\/]/gi) || [];
    if (opened.length > 1) {
      throw new Error("The SVG carries several badges; a badge image carries one, so which one it stands for " +
        "cannot be told.");
    }
    // (DOMParser runs no script and loads nothing: the document is only read)
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    if (doc.getElementsByTagName("parsererror").length) { throw new Error("The SVG is not well-formed XML."); }
    // Any element named assertion or credential, under any prefix or namespace: a decoy under a prefix
    // bound elsewhere is what a reader matching the text "openbadges:assertion" would take.
    var named = Array.prototype.filter.call(doc.getElementsByTagName("*"), function (e) {
      return e.localName === "assertion" || e.localName === "credential";
    });
    if (named.length > 1) {
      throw new Error("The SVG carries several badges; a badge image carries one, so which one it stands for " +
        "cannot be told.");
    }
    var element = named[0];
    if (!element) { return null; }
    if (element.namespaceURI !== (element.localName === "assertion" ? OB2_NS : OB3_NS)) {
      throw new Error("The SVG's " + element.localName + " element is not in the Open Badges namespace.");
    }
    var inside = element.textContent.trim(), verifyUrl = element.getAttribute("verify");
    var credential = element.localName === "credential";
    if (credential && verifyUrl !== null) {
      throw new Error("The SVG's credential element has a verify address, which Open Badges 3.0 does not give it.");
    }
    if (!inside && verifyUrl) {  // (2.0: a hosted assertion by its URL alone)
      return {text: verifyUrl, where: "the SVG's verify address", image: true, expect: 2};
    }
    return {text: inside, where: "the SVG's " + element.localName + " element", image: true, verify: verifyUrl,
      expect: credential ? 3 : 2, published: credential ? "credential.svg" : "badge.svg"};
  }

  // --- Which badge it is ----------------------------------------------------------------------

  /** {kind: 2 or 3, id (the address it names), names (what that address may end in), file (the
      published file to compare with), what, text (as the file holds it), value, compact (a JWT or JWS),
      addressOnly (the file holds the address alone)}. */
  function understood(found) {
    var text = found.text, value, compact = null;
    if (text.length > MAX_TEXT) { throw new Error("It is too large to be a badge."); }
    if (/^https?:\/\/\S+$/i.test(text)) {  // (2.0: an image may carry its hosted assertion's address alone)
      return {kind: 2, id: text, names: ["assertion.json", "credential.json"], file: "assertion.json",
        what: "Open Badges 2.0 assertion", addressOnly: true};
    }
    if (/^[{\[]/.test(text)) {
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new Error("What " + found.where + " holds is not valid JSON.");
      }
    } else {
      var parts = text.split(".");
      if (parts.length !== 3) { throw new Error("What " + found.where + " holds is neither JSON nor a signed token."); }
      try {
        value = JSON.parse(utf8(base64url(parts[1])));
      } catch (error) {
        throw new Error("The signed token in " + found.where + " does not hold a JSON payload.");
      }
      compact = text;
    }
    if (!isObject(value)) { throw new Error("What " + found.where + " holds is not a badge (not a JSON object)."); }
    var types = [].concat(value.type || []);
    var assertion = types.indexOf("Assertion") >= 0;
    if (found.expect && found.expect !== (assertion ? 2 : 3)) {
      throw new Error(found.where.replace(/^the /, "The ") + " is where Open Badges " + found.expect + ".0 bakes " +
        (found.expect === 2 ? "an assertion" : "a credential") + ", but it holds something else.");
    }
    if (assertion) {
      if (found.verify && found.verify !== value.id) {
        throw new Error("The SVG's verify address (" + quoted(found.verify) + ") is not the id of the assertion " +
          "it carries (" + (value.id === undefined || value.id === null ? "it has none" : shown(value.id)) + "): " +
          "which badge it stands for cannot be told.");
      }
      // (a signed assertion's id is a urn:uuid: its image, in its award's folder, tells where it is)
      var image = isObject(value.image) && typeof value.image.id === "string" ? value.image.id : value.image;
      var byImage = compact !== null && !webAddress(value.id) && webAddress(image);
      return {kind: 2, id: byImage ? image : value.id, file: compact ? "assertion.jws" : "assertion.json",
        image: compact !== null && !byImage ? {value: image} : null,
        value: value, compact: compact, names: byImage ? ["badge.png", "badge.svg"] : ["assertion.json"],
        what: compact ? "signed Open Badges 2.0 assertion" : "Open Badges 2.0 assertion", text: text};
    }
    if (types.indexOf("VerifiableCredential") >= 0 || types.indexOf("OpenBadgeCredential") >= 0 ||
        types.indexOf("AchievementCredential") >= 0) {
      return {kind: 3, id: compact ? (value.jti || value.id) : value.id, file: compact ? "credential.jwt" :
        "credential.json", value: value, compact: compact, names: ["credential.json"],
        what: compact ? "Open Badges 3.0 credential (VC-JWT)" : "Open Badges 3.0 credential", text: text};
    }
    throw new Error("What " + found.where + " holds is neither an Open Badges 2.0 assertion nor an Open " +
      "Badges 3.0 credential (its type is " + quoted(JSON.stringify(types), 120) + ").");
  }

  /** The award id of a badge's address on this site, or null when it names another site or file. */
  function awardOf(address, names) {
    if (address.search || address.hash || address.username || address.password) { return null; }
    for (var i = 0; i < sites.length; i++) {
      var site = sites[i];
      if (address.origin !== site.origin || !address.pathname.startsWith(site.pathname)) { continue; }
      var rest = address.pathname.slice(site.pathname.length).split("/");
      if (rest.length === 3 && rest[0] === "awards" && names.indexOf(rest[2]) >= 0 && AWARD_ID.test(rest[1])) {
        return rest[1];
      }
    }
    return null;
  }

  /** How the file's badge compares with the text this site publishes, as {how, value}. how: true
      when the file holds the very text (a JSON file, or a JWT or JWS); "written" when it reads as
      the same value written another way (another program saved it, or JSON with a member twice,
      which readers take differently); "its signature" when only that differs; else where it
      differs first; null when the published file cannot be read. value: the published value, when
      read (a hosted assertion says whether it is revoked).
      (A signature is never compared but as text: a file signed otherwise is another file.) */
  function sameBadge(badge, publishedText) {
    var published = publishedText.replace(/^\uFEFF/, "").trim();
    var value;
    try {
      value = badge.compact !== null ? JSON.parse(utf8(base64url(published.split(".")[1] || ""))) :
        JSON.parse(published);
    } catch (error) {
      return {how: null, value: null};
    }
    if (published === badge.text) {
      return {how: true, value: value};
    }
    if (badge.compact !== null && published.split(".").length === 3 && difference(badge.value, value, "") === null) {
      return {how: "its signature", value: value};
    }
    var at = difference(badge.value, value, "");
    return {how: at === null ? "written" : "at " + quoted(at), value: value};
  }

  /** The path of the first difference between two JSON values, or null when they are equal. */
  function difference(a, b, path) {
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b)) { return path || "its whole content"; }
      if (a.length !== b.length) { return (path || "its whole content") + " (length)"; }
      for (var i = 0; i < a.length; i++) {
        var inner = difference(a[i], b[i], path + "[" + i + "]");
        if (inner !== null) { return inner; }
      }
      return null;
    }
    if (isObject(a) || isObject(b)) {
      if (!isObject(a) || !isObject(b)) { return path || "its whole content"; }
      var own = Object.prototype.hasOwnProperty;  // (JSON.parse makes "__proto__" an own member: never "in")
      var keys = Object.keys(a).concat(Object.keys(b).filter(function (k) { return !own.call(a, k); })).sort();
      for (var j = 0; j < keys.length; j++) {
        var key = keys[j];
        var here = path ? path + "." + key : key;
        if (!own.call(a, key) || !own.call(b, key)) {
          return here;
        }
        var deeper = difference(a[key], b[key], here);
        if (deeper !== null) { return deeper; }
      }
      return null;
    }
    return a === b ? null : (path || "its whole content");
  }

  // --- Small helpers --------------------------------------------------------------------------

  /** A badge file this site publishes, as {bytes, text}: its bytes as served, compared byte for byte
      with the file given (a BOM the host adds makes another file), and its text (a BOM dropped, as
      a browser reads text), or null when they are not UTF-8 (no badge this site made). */
  async function fetchBadge(url) {
    var bytes = await fetchBytes(url);
    if (/^\s*</.test(new TextDecoder("utf-8").decode(bytes))) {  // (a BOM is dropped first)
      // (a host that answers every address with a page, not a 404: not known missing)
      throw new Error("this site answered " + url.href + " with a web page, not the badge");
    }
    var text;
    try {
      text = new TextDecoder("utf-8", {fatal: true}).decode(bytes);
    } catch (error) {
      text = null;
    }
    return {bytes: bytes, text: text};
  }

  /** The bytes of an image this site publishes (a baked badge), as fetchBytes reads them; an error
      when the site answers with a web page instead (a host that answers every address with one). */
  async function fetchImage(url) {
    var bytes = await fetchBytes(url);
    // A PNG is its signature; an SVG begins, past a BOM, spaces and comments, with an XML
    // declaration, a DOCTYPE svg or the svg element. Anything else is no image (a page that
    // begins with a comment, a <meta> or a <title> read as "its picture differs": a review).
    var head = new TextDecoder("utf-8").decode(bytes.subarray(0, 4096)).replace(/^(?:\s|<!--[\s\S]*?-->)*/, "");
    var image = /\.png$/i.test(url.pathname) ? startsWith(bytes, PNG_SIGNATURE) :
      /^<(\?xml[\s?]|!doctype\s+svg[\s>]|svg[\s>])/i.test(head);
    if (!image) {
      throw new Error("this site answered " + url.href + " with " + (/^</.test(head) ? "a web page" : "something") +
        ", not the image");
    }
    return bytes;
  }

  /** The bytes of a file of this site (16 MB at most), as served; an error that says .missing (404)
      or .gone (410) when the site says so. */
  async function fetchBytes(url) {
    if (url.origin !== location.origin) { throw new Error(url.href + " is not on this site"); }
    var response;
    try {
      response = await fetch(url.href, {cache: "no-cache", credentials: "omit", redirect: "follow"});
    } catch (error) {
      throw new Error(url.href + " could not be downloaded (offline?)");
    }
    if (response.status === 404 || response.status === 410) {
      var missing = new Error(url.href + " is not there");
      missing.missing = response.status === 404;
      missing.gone = response.status === 410;
      throw missing;
    }
    if (!response.ok) { throw new Error(url.href + " could not be downloaded (HTTP " + response.status + ")"); }
    if (new URL(response.url || url.href).origin !== location.origin) {
      throw new Error(url.href + " redirected to another site");
    }
    var tooLarge = url.href + " is larger than 16 MB, which no badge is";
    if (Number(response.headers.get("Content-Length")) > MAX_FILE) { throw new Error(tooLarge); }
    return await readAtMost(response, MAX_FILE, tooLarge);
  }

  /** A response's body, read as it arrives and given up past ``limit`` bytes (an error saying
      ``tooLarge``): a host that sends more than it declared, or declares nothing, is cut off there,
      never held whole in memory. */
  async function readAtMost(response, limit, tooLarge) {
    if (!response.body || typeof response.body.getReader !== "function") {
      var whole = new Uint8Array(await response.arrayBuffer());
      if (whole.length > limit) { throw new Error(tooLarge); }
      return whole;
    }
    return await readStream(response.body.getReader(), limit, tooLarge);
  }

  /** The bytes a stream's ``reader`` gives, read as they come and given up (the stream cancelled,
      an error saying ``tooLarge``) once past ``limit``: what a compressed chunk inflates to, what a
      host sends. */
  async function readStream(reader, limit, tooLarge) {
    var parts = [], total = 0;
    for (;;) {
      var step = await reader.read();
      if (step.done) { break; }
      total += step.value.length;
      if (total > limit) {
        reader.cancel().catch(function () {});
        throw new Error(tooLarge);
      }
      parts.push(step.value);
    }
    var bytes = new Uint8Array(total), at = 0;
    parts.forEach(function (part) { bytes.set(part, at); at += part.length; });
    return bytes;
  }

  /** How two files that are not the same bytes differ in the byte order marks they begin with,
      said for the sentence "the file itself is not the one this site publishes (…)"; null when
      they begin with as many (then something else differs). */
  function bomsDiffer(given, served) {
    var a = boms(given), b = boms(served);
    if (a === b) { return null; }
    var rest = sameBytes(given.subarray(3 * a), served.subarray(3 * b));
    if (rest && a + b === 1) { return "one of the two begins with a byte order mark, the other does not"; }
    return (rest ? "" : "it is written with other spacing, and ") + "it begins with " + marksSaid(a) +
      ", this site's file with " + marksSaid(b);
  }

  /** How many byte order marks (EF BB BF) ``bytes`` begins with, one after the other. */
  function boms(bytes) {
    var count = 0;
    while (startsWith(bytes.subarray(3 * count), [0xEF, 0xBB, 0xBF])) { count++; }
    return count;
  }

  function marksSaid(count) {
    return count === 0 ? "no byte order mark" : count === 1 ? "a byte order mark" : count + " byte order marks";
  }

  function sameBytes(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  function startsWith(bytes, prefix) {
    if (bytes.length < prefix.length) { return false; }
    for (var i = 0; i < prefix.length; i++) { if (bytes[i] !== prefix[i]) { return false; } }
    return true;
  }

  function latin1(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += String.fromCharCode(bytes[i]); }
    return out;
  }

  function base64url(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) { throw new Error("not base64url"); }
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    var binary = atob(b64), out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  function utf8(bytes) { return new TextDecoder("utf-8", {fatal: true}).decode(bytes); }

  function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }
})();
