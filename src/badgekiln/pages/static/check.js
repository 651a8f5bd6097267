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

  /** Show a verdict: ``kind`` ok, invalid or incomplete; ``lines``: sentences; ``link``: {href, text}. */
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

  async function check(file) {
    result.removeAttribute("data-verdict");
    result.hidden = false;
    result.textContent = "Reading " + file.name + "…";
    try {
      await checkFile(file);
    } catch (error) {
      show("incomplete", ["Could not check this file.", "Something went wrong while checking it (" +
        String(error && error.message || error) + "). The badge is not shown to be genuine or not."]);
    }
  }

  async function checkFile(file) {
    if (file.size > MAX_FILE) {
      return show("invalid", ["This is not a badge file.", file.name + " is larger than 16 MB; no badge " +
        "image or credential is that large."]);
    }
    var bytes = new Uint8Array(await file.arrayBuffer());
    var found;
    try {
      found = await carried(bytes);
    } catch (error) {
      return show("invalid", ["No badge could be read from " + file.name + ".", String(error.message || error)]);
    }
    if (!found) {
      return show("invalid", ["No badge was found in " + file.name + ".", "A badge image carries its badge " +
        "inside it (a PNG or SVG downloaded from a badge page); a credential is a .json, .jwt or .jws file. " +
        "This file is none of those: a picture of a badge, or a screenshot, cannot be checked."]);
    }
    var badge;
    try {
      badge = understood(found);
    } catch (error) {
      return show("invalid", ["The badge in " + file.name + " cannot be read.", String(error.message || error)]);
    }
    var address;
    try {
      address = new URL(badge.id);
    } catch (error) {
      return show("invalid", ["The badge in " + file.name + " has no address.", "It names no address where " +
        "its issuer publishes it (its id is " + JSON.stringify(String(badge.id)).slice(0, 200) + "), so it " +
        "cannot be checked against a published badge."]);
    }
    var award = awardOf(address, badge.names);
    if (!award) {
      return show("invalid", ["This badge was not issued on this site.", "It names " +
        address.href.slice(0, 300) + ", not an award of " + root.href + ". Check it on the site of the " +
        "issuer it names, or with any Open Badges verifier; this page follows no address a file gives."]);
    }
    var published = new URL("awards/" + award + "/" + badge.file, root);
    var text;
    try {
      text = await fetchText(published);
    } catch (error) {
      if (error.missing) {
        return show("invalid", ["Not issued here: this site publishes no such badge.", "The badge names " +
          address.href + ", but there is nothing at that address: this site never issued it, or its " +
          "address was changed."]);
      }
      return show("incomplete", ["Could not check: " + String(error.message || error) + ".", "The published " +
        "badge could not be downloaded, so the file was not compared with it. Try again later; the badge " +
        "is not shown to be genuine or not."]);
    }
    var page = new URL("awards/" + award + "/#verify", root);
    var same = sameBadge(badge, text);
    if (same === true) {
      return show("ok", ["This file is a badge this site publishes.", "It carries exactly the " +
        badge.what + " published at " + published.href + ". Its page shows who earned it and checks its " +
        "signatures and whether it is still valid (not revoked, suspended or expired): this page checked " +
        "neither."], {href: page.href, text: "Open the badge's page and verify it"});
    }
    if (same === "signature") {
      return show("incomplete", ["Same badge, signed again since.", "It says what the " + badge.what +
        " published at " + published.href + " says, but carries another signature than the published one " +
        "(the issuer signs its badges again when it changes its keys). Use the published badge: its page " +
        "checks its signatures and status."], {href: page.href, text: "Open the badge's page and verify it"});
    }
    return show("invalid", ["Not genuine: this file is not the badge published at its address.", "It differs " +
      "from the " + badge.what + " published at " + published.href + " (" + same + "). Someone changed it " +
      "after it was issued, or it was never issued like this. Do not rely on it."],
      {href: page.href, text: "See the badge published at that address"});
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
    if (trimmed.length > MAX_TEXT) { return null; }
    if (/^[{\[]/.test(trimmed) || /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(trimmed)) {
      return {text: trimmed, where: "the file"};
    }
    return null;
  }

  async function pngBadge(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var at = 8, found = [];
    while (at + 12 <= bytes.length) {
      var length = view.getUint32(at);
      var type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
      var start = at + 8, end = start + length;
      if (length > 0x7fffffff || end + 4 > bytes.length) { throw new Error("The PNG is cut short or damaged."); }
      if (type === "iTXt" || type === "tEXt") {
        var chunk = bytes.subarray(start, end);
        var nul = chunk.indexOf(0);
        var keyword = nul > 0 ? latin1(chunk.subarray(0, nul)) : "";
        if (keyword === "openbadges" || keyword === "openbadgecredential") {
          found.push({keyword: keyword, text: await chunkText(type, chunk.subarray(nul + 1))});
        }
      }
      if (type === "IEND") { break; }
      at = end + 4;
    }
    if (found.length > 1) {
      throw new Error("The PNG carries " + found.length + " badges; a badge image carries one (Open Badges " +
        "Baking: one iTXt chunk), so which one it stands for cannot be told.");
    }
    if (!found.length) { return null; }
    return {text: found[0].text.trim(), where: "the PNG's " + found[0].keyword + " chunk"};
  }

  /** The text of an iTXt chunk after its keyword (tEXt: Latin-1 text), inflated if compressed. */
  async function chunkText(type, rest) {
    if (type === "tEXt") { return latin1(rest); }
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
    var reader = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
    var chunks = [], total = 0;
    for (;;) {
      var next = await reader.read();
      if (next.done) { break; }
      total += next.value.length;
      if (total > MAX_TEXT) {
        reader.cancel().catch(function () {});
        throw new Error("The badge in the PNG is too large to be a badge.");
      }
      chunks.push(next.value);
    }
    var out = new Uint8Array(total), offset = 0;
    chunks.forEach(function (c) { out.set(c, offset); offset += c.length; });
    return out;
  }

  function svgBadge(text) {
    // (DOMParser runs no script and loads nothing: the document is only read)
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    if (doc.getElementsByTagName("parsererror").length) { throw new Error("The SVG is not well-formed XML."); }
    var credentials = doc.getElementsByTagNameNS(OB3_NS, "credential");
    var assertions = doc.getElementsByTagNameNS(OB2_NS, "assertion");
    if (credentials.length + assertions.length > 1) {
      throw new Error("The SVG carries several badges; a badge image carries one, so which one it stands for " +
        "cannot be told.");
    }
    var element = credentials[0] || assertions[0];
    if (!element) { return null; }
    var inside = element.textContent.trim();
    if (!inside && element.getAttribute("verify")) {  // (2.0: a hosted assertion by its URL alone)
      return {text: JSON.stringify({id: element.getAttribute("verify"), type: "Assertion"}), where: "the SVG",
        addressOnly: true};
    }
    return {text: inside, where: "the SVG's " + element.localName + " element"};
  }

  // --- Which badge it is ----------------------------------------------------------------------

  /** {kind: 2 or 3, id (the address it names), names (what that address may end in), file (the
      published file to compare with), what, value, compact, addressOnly}. */
  function understood(found) {
    var text = found.text, value, compact = null;
    if (text.length > MAX_TEXT) { throw new Error("It is too large to be a badge."); }
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
    if (types.indexOf("Assertion") >= 0) {
      // (a signed assertion's id is a urn:uuid: its image, in its award's folder, tells where it is)
      var id2 = compact && !/^https?:/i.test(String(value.id)) ? value.image : value.id;
      return {kind: 2, id: id2, file: compact ? "assertion.jws" : "assertion.json", value: value, compact: compact,
        names: compact && id2 === value.image ? ["badge.png", "badge.svg"] : ["assertion.json"],
        what: compact ? "signed Open Badges 2.0 assertion" : "Open Badges 2.0 assertion",
        addressOnly: !!found.addressOnly};
    }
    if (types.indexOf("VerifiableCredential") >= 0 || types.indexOf("OpenBadgeCredential") >= 0 ||
        types.indexOf("AchievementCredential") >= 0) {
      return {kind: 3, id: compact ? (value.jti || value.id) : value.id, file: compact ? "credential.jwt" :
        "credential.json", value: value, compact: compact, names: ["credential.json"],
        what: compact ? "Open Badges 3.0 credential (VC-JWT)" : "Open Badges 3.0 credential"};
    }
    throw new Error("What " + found.where + " holds is neither an Open Badges 2.0 assertion nor an Open " +
      "Badges 3.0 credential (its type is " + JSON.stringify(types).slice(0, 120) + ").");
  }

  /** The award id of a badge's address on this site, or null when it names another site or file. */
  function awardOf(address, names) {
    if (address.origin !== root.origin || address.search || address.hash) { return null; }
    if (!address.pathname.startsWith(root.pathname)) { return null; }
    var rest = address.pathname.slice(root.pathname.length).split("/");
    if (rest.length !== 3 || rest[0] !== "awards" || names.indexOf(rest[2]) < 0 || !AWARD_ID.test(rest[1])) {
      return null;
    }
    return rest[1];
  }

  /** true when the file is the published badge; "signature" when only its signature differs;
      else where it differs first. */
  function sameBadge(badge, publishedText) {
    if (badge.compact !== null) {
      var published = publishedText.trim();
      if (published === badge.compact) { return true; }
      var parts = published.split(".");
      var payload;
      try {
        payload = JSON.parse(utf8(base64url(parts[1] || "")));
      } catch (error) {
        return "the published file is not a signed token";
      }
      var where = difference(badge.value, payload, "");
      return where === null ? "signature" : "at " + where;
    }
    var value;
    try {
      value = JSON.parse(publishedText);
    } catch (error) {
      return "the published file is not JSON";
    }
    if (badge.addressOnly) { return true; }  // (nothing in the file but the address: the published one is the badge)
    var at = difference(badge.value, value, "");
    if (at === null) { return true; }
    if (badge.kind === 3 && isObject(badge.value) && isObject(value)) {
      var a = Object.assign({}, badge.value), b = Object.assign({}, value);
      delete a.proof;
      delete b.proof;
      if (difference(a, b, "") === null) { return "signature"; }
    }
    return "at " + at;
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
      var keys = Object.keys(a).concat(Object.keys(b).filter(function (k) { return !(k in a); })).sort();
      for (var j = 0; j < keys.length; j++) {
        var key = keys[j];
        var here = path ? path + "." + key : key;
        if (!Object.prototype.hasOwnProperty.call(a, key) || !Object.prototype.hasOwnProperty.call(b, key)) {
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

  async function fetchText(url) {
    if (url.origin !== location.origin) { throw new Error(url.href + " is not on this site"); }
    var response;
    try {
      response = await fetch(url.href, {cache: "no-cache", credentials: "omit", redirect: "follow"});
    } catch (error) {
      throw new Error(url.href + " could not be downloaded (offline?)");
    }
    if (response.status === 404 || response.status === 410) {
      var missing = new Error(url.href + " is not there");
      missing.missing = true;
      throw missing;
    }
    if (!response.ok) { throw new Error(url.href + " could not be downloaded (HTTP " + response.status + ")"); }
    if (new URL(response.url || url.href).origin !== location.origin) {
      throw new Error(url.href + " redirected to another site");
    }
    var text = await response.text();
    if (/^\s*</.test(text)) {  // (a host that answers every address with a page, not a 404)
      var page = new Error(url.href + " is a web page, not the badge");
      page.missing = true;
      throw page;
    }
    return text;
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
