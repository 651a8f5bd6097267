/* badgekiln page enhancements. The page works without this script; it only adds:
   - the Print button,
   - the expiry status as of the day the page is viewed (the HTML says it as of the build day),
   - the "Verify this badge" panel of award pages: the browser checks the award's VC-JWT itself
     (RS256 signature with WebCrypto against the site's published keys, issuer, content, dates,
     Bitstring Status List revocation), with no server and no external library.
   Everything it writes into the page goes in as text (textContent), never as HTML. */
(function () {
  "use strict";

  var printButton = document.querySelector(".print-button");
  if (printButton) {
    var printItem = printButton.closest("[hidden]");
    if (printItem) { printItem.hidden = false; }
    printButton.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  }

  var expiry = document.querySelector(".expiry[data-expires]");
  var status = document.querySelector(".status[data-status]");
  if (expiry && status && status.getAttribute("data-status") === "valid") {
    var today = new Date().toISOString().slice(0, 10);
    if (expiry.getAttribute("data-expires") <= today) {
      status.textContent = "Expired";
      status.setAttribute("data-status", "expired");
      document.body.classList.remove("status-valid");
      document.body.classList.add("status-expired");
      var label = expiry.closest("div").querySelector("dt");
      if (label) { label.textContent = "Expired on"; }
    }
  }

  // --- In-browser verification -------------------------------------------------------------

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  var STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024;
  // Registered claims ob3.jwt_claims() adds to the credential to make the VC-JWT payload.
  var JWT_CLAIMS = ["iss", "jti", "nbf", "exp", "sub"];

  function setUpVerifier() {
    var panel = document.getElementById("verify");
    var button = document.getElementById("verify-button");
    var list = document.getElementById("verify-steps");
    if (!panel || !button || !list || !panel.getAttribute("data-jwt")) { return; }
    var supported = window.fetch && window.crypto && window.crypto.subtle && window.TextDecoder &&
      window.DecompressionStream && window.URL && window.Promise;
    if (!supported) { return; }  // stays hidden: the links to the files are still there
    panel.hidden = false;
    var running = false;
    button.addEventListener("click", function () {
      if (running) { return; }
      running = true;
      button.disabled = true;
      panel.setAttribute("aria-busy", "true");
      verify(panel, list).then(function (verdict) {
        showVerdict(panel, verdict);
      }, function (error) {
        showVerdict(panel, {kind: "error", text: "The check could not be completed: " + describe(error)});
      }).then(function () {
        running = false;
        button.disabled = false;
        button.textContent = "Verify again";
        panel.removeAttribute("aria-busy");
      });
    });
  }

  function showVerdict(panel, verdict) {
    var line = document.getElementById("verify-verdict");
    if (!line) {
      line = document.createElement("p");
      line.id = "verify-verdict";
      line.className = "verify-verdict";
      line.setAttribute("role", "status");
      document.getElementById("verify-steps").after(line);
    }
    line.textContent = verdict.text;
    line.setAttribute("data-verdict", verdict.kind);
    line.hidden = false;
    panel.setAttribute("data-verdict", verdict.kind);
  }

  /** A step of the check: a list item that starts "in progress" and ends ✔ or ✘. */
  function Step(list, text) {
    this.item = document.createElement("li");
    this.icon = document.createElement("span");
    this.icon.className = "verify-icon";
    this.icon.setAttribute("aria-hidden", "true");
    this.text = document.createElement("span");
    this.text.className = "verify-text";
    this.item.append(this.icon, this.text);
    list.append(this.item);
    this.set("running", "…", text);
  }
  Step.prototype.set = function (state, icon, text) {
    this.item.className = "verify-step " + state;
    this.item.setAttribute("data-state", state);
    this.icon.textContent = icon;
    this.text.textContent = text;
  };
  Step.prototype.ok = function (text) { this.set("ok", "✔", text); return true; };
  Step.prototype.fail = function (text) { this.set("fail", "✘", text); return false; };

  async function verify(panel, list) {
    list.textContent = "";
    var verdictLine = document.getElementById("verify-verdict");
    if (verdictLine) { verdictLine.hidden = true; verdictLine.textContent = ""; }
    panel.removeAttribute("data-verdict");

    var root = new URL(panel.getAttribute("data-root") || "./", location.href);
    var jwtUrl = new URL(panel.getAttribute("data-jwt"), location.href);
    var credentialUrl = new URL(panel.getAttribute("data-credential"), location.href);
    var jwksUrl = panel.getAttribute("data-jwks") ? new URL(panel.getAttribute("data-jwks"), location.href)
      : new URL("keys/jwks.json", root);

    // 1. Signature: the VC-JWT, checked with the key its header names, if this site publishes it.
    var step = new Step(list, "Checking the signature of the credential…");
    var jwt, credential;
    try {
      var both = await Promise.all([fetchText(jwtUrl), fetchJson(credentialUrl)]);
      jwt = parseJwt(both[0]);
      credential = both[1];
    } catch (error) {
      step.fail("Could not read the credential: " + describe(error));
      return {kind: "error", text: "Not verified: the credential could not be read."};
    }
    var key;
    try {
      key = await publishedKey(jwt.header, root, jwksUrl);
    } catch (error) {
      step.fail("Signature not checked: " + describe(error));
      return {kind: "invalid", text: "Not verified: the key that signed this badge is not one this issuer publishes."};
    }
    var valid = false;
    try {
      valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key.cryptoKey, jwt.signature, jwt.signingInput);
    } catch (error) {
      valid = false;  // a malformed signature is an invalid one
    }
    if (!valid) {
      step.fail("Signature is invalid: the credential was changed after it was signed, or was not signed " +
        "with the issuer's key " + key.kid + ".");
      return {kind: "invalid", text: "Not verified: the signature is invalid. Do not rely on this badge."};
    }
    var payload;
    try {
      payload = JSON.parse(utf8(jwt.payloadBytes));
      if (!isObject(payload)) { throw new Error("the payload is not a JSON object"); }
    } catch (error) {
      step.fail("The signed payload is not a credential: " + describe(error));
      return {kind: "invalid", text: "Not verified: the signed payload is not a credential."};
    }
    var issuer = isObject(payload.issuer) ? payload.issuer : {id: payload.issuer};
    var issuerName = typeof issuer.name === "string" && issuer.name ? issuer.name : String(issuer.id);
    step.ok("Signature is valid: signed by " + issuerName + "'s key " + key.kid + " (" + sitePath(key.url, root) +
      ", listed in " + sitePath(jwksUrl.href, root) + ").");

    var problems = [];  // checks that make the badge "not verified"

    // 2. Issuer: the signed iss is the credential's issuer, and its did:web names this site.
    step = new Step(list, "Checking who issued it…");
    var credentialIssuer = credential && (isObject(credential.issuer) ? credential.issuer.id : credential.issuer);
    var didSite = didWebSite(payload.iss);
    if (typeof payload.iss !== "string" || payload.iss !== issuer.id || payload.iss !== credentialIssuer) {
      problems.push(step.fail("Issuer does not match: the VC-JWT says " + String(payload.iss) +
        ", the credential says " + String(credentialIssuer) + "."));
    } else if (!didSite || didSite.host !== root.host || didSite.path !== root.pathname) {
      problems.push(step.fail("The issuer " + payload.iss + " is not the owner of this site (" + root.host +
        root.pathname + "): open the badge at its official address to check it here."));
    } else {
      step.ok("Issued by " + issuerName + " (" + payload.iss + ").");
    }

    // 3. Content: this page's credential, and credential.json says exactly what was signed.
    step = new Step(list, "Comparing the published credential with the signed one…");
    var difference = contentDifference(payload, credential);
    if (payload.jti !== credentialUrl.href || !isObject(credential) || credential.id !== payload.jti) {
      problems.push(step.fail("This is not this page's credential: its id is " + String(payload.jti) +
        ", the page's is " + credentialUrl.href + "."));
    } else if (difference !== null) {
      problems.push(step.fail("The published credential.json differs from the signed credential at " +
        difference + "."));
    } else {
      step.ok("Content matches: " + sitePath(credentialUrl.href, root) + " is exactly the signed credential " +
        "of this badge.");
    }

    // 4. This page shows what the signed credential says.
    if (document.querySelector(".certificate .badge-name")) {
      step = new Step(list, "Comparing this page with the credential…");
      var mismatch = pageMismatch(payload);
      if (mismatch !== null) {
        problems.push(step.fail("This page does not show what the signed credential says: " + mismatch + "."));
      } else {
        step.ok("This page shows the badge name and dates of the signed credential.");
      }
    }

    // 5. Validity dates against this device's clock.
    step = new Step(list, "Checking the dates…");
    var now = Date.now() / 1000;
    var expired = false, notYet = false;
    var datesProblem = claimDatesProblem(payload);
    if (datesProblem) {
      problems.push(step.fail(datesProblem));
    } else if (typeof payload.nbf === "number" && now < payload.nbf) {
      notYet = true;
      step.fail("Not valid yet: valid from " + longDate(payload.nbf) + ".");
    } else if (typeof payload.exp === "number" && now >= payload.exp) {
      expired = true;
      step.fail("Expired on " + longDate(payload.exp) + ".");
    } else if (typeof payload.exp === "number") {
      step.ok("Valid until " + longDate(payload.exp) + ".");
    } else {
      step.ok("Valid since " + longDate(payload.nbf) + "; does not expire.");
    }

    // 6. Revocation: the credential's bit in the issuer's Bitstring Status List.
    step = new Step(list, "Checking the issuer's revocation list…");
    var revoked = false, statusUnknown = false;
    try {
      var revocation = statusEntry(payload, "revocation");
      revoked = await statusBit(payload, root, revocation);
      if (revoked) {
        step.fail("Revoked: the issuer's revocation list marks this credential as revoked.");
      } else {
        step.ok("Not revoked (the issuer's revocation list " + sitePath(revocation.statusListCredential,
          root) + ", entry " + revocation.statusListIndex + ").");
      }
    } catch (error) {
      statusUnknown = true;
      step.fail("Revocation not checked: " + describe(error));
    }

    // 7. Suspension (reversible): the same index in the issuer's suspension list, when the
    // credential has a suspension entry.
    var suspended = false;
    var suspension = statusEntry(payload, "suspension", true);
    if (suspension) {
      step = new Step(list, "Checking the issuer's suspension list…");
      try {
        suspended = await statusBit(payload, root, suspension);
        if (suspended) {
          step.fail("Suspended: the issuer's suspension list marks this credential as suspended.");
        } else {
          step.ok("Not suspended (the issuer's suspension list " + sitePath(suspension.statusListCredential,
            root) + ", entry " + suspension.statusListIndex + ").");
        }
      } catch (error) {
        statusUnknown = true;
        step.fail("Suspension not checked: " + describe(error));
      }
    }

    if (problems.length) {
      return {kind: "invalid", text: "Not verified: the signature is valid, but " +
        (problems.length === 1 ? "one check" : problems.length + " checks") + " failed (see above)."};
    }
    if (revoked) {
      return {kind: "revoked", text: "Revoked: " + issuerName + " has revoked this badge. It is no longer valid."};
    }
    if (suspended) {
      var reason = suspensionReason();
      return {kind: "suspended", text: "Suspended: " + issuerName + " has suspended this badge" +
        (reason ? " (" + reason + ")" : "") + ". It is not valid while suspended; the issuer may lift the suspension."};
    }
    if (statusUnknown) {
      return {kind: "error", text: "Not fully verified: the signature is valid, but whether the badge was " +
        "revoked or suspended could not be checked."};
    }
    if (expired) {
      return {kind: "expired", text: "Expired: this badge is genuine, issued by " + issuerName +
        ", but it expired on " + longDate(payload.exp) + "."};
    }
    if (notYet) {
      return {kind: "invalid", text: "Not valid yet: this badge is only valid from " + longDate(payload.nbf) + "."};
    }
    return {kind: "valid", text: "Valid: this badge was issued by " + issuerName +
      ", has not been changed since, and is neither expired nor revoked."};
  }

  // --- JWT and keys ------------------------------------------------------------------------

  function parseJwt(text) {
    var parts = text.trim().split(".");
    if (parts.length !== 3 || !parts.every(function (p) { return /^[A-Za-z0-9_-]+$/.test(p); })) {
      throw new Error("credential.jwt is not a compact JWS");
    }
    var header = JSON.parse(utf8(base64url(parts[0])));
    if (!isObject(header)) { throw new Error("the JWT header is not a JSON object"); }
    return {
      header: header,
      payloadBytes: base64url(parts[1]),
      signature: base64url(parts[2]),
      signingInput: new TextEncoder().encode(parts[0] + "." + parts[1]),
    };
  }

  /** The RSA key the JWT header names, if it is on this site and listed in its key set. The kid is
   * the DID URL of a JsonWebKey method in this site's did.json (did:web:host[:path]#key), or, in
   * badges signed before that, the https URL of the key's JWK under keys/. */
  async function publishedKey(header, root, jwksUrl) {
    if (header.alg !== "RS256") { throw new Error("the credential uses the algorithm " + header.alg + ", not RS256"); }
    if (typeof header.kid !== "string") { throw new Error("the credential does not name its key"); }
    var found = header.kid.startsWith("did:web:") ? await keyFromDid(header.kid, root)
      : await keyFromUrl(header.kid, root);
    var jwk = found.jwk, jwks = await fetchJson(jwksUrl);
    if (!isObject(jwk) || jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") {
      throw new Error(found.url + " is not an RSA public key");
    }
    var listed = isObject(jwks) && Array.isArray(jwks.keys) && jwks.keys.some(function (k) {
      return isObject(k) && k.kid === jwk.kid && k.kty === jwk.kty && k.n === jwk.n && k.e === jwk.e;
    });
    if (!listed) {
      throw new Error("the key " + header.kid + " is not listed in this site's key set " + jwksUrl.href +
        " (a retired key, or not the issuer's)");
    }
    var cryptoKey = await crypto.subtle.importKey("jwk", {kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256", ext: true},
      {name: "RSASSA-PKCS1-v1_5", hash: "SHA-256"}, false, ["verify"]);
    return {cryptoKey: cryptoKey, kid: header.kid, url: found.url};
  }

  /** {jwk, url} of a did:web kid of this site: the publicKeyJwk of the JsonWebKey method with that
   * id, controlled by the site's DID and listed under its assertionMethod in did.json. */
  async function keyFromDid(kid, root) {
    var did = kid.split("#")[0], site = didWebSite(did);
    if (!site || !kid.slice(did.length + 1) || site.host !== root.host || site.path !== root.pathname) {
      throw new Error("the signing key " + kid + " is not a key of this site (" + root.href + ")");
    }
    // did:web:host → /.well-known/did.json; did:web:host:path → /path/did.json (the did:web method)
    var url = new URL(site.path === "/" ? ".well-known/did.json" : "did.json", root);
    var document = await fetchJson(url);
    if (!isObject(document) || document.id !== did) {
      throw new Error(url.href + " is not the DID document of " + did);
    }
    var absolute = function (id) { return typeof id === "string" && id.startsWith("#") ? did + id : id; };
    var methods = (Array.isArray(document.verificationMethod) ? document.verificationMethod : []).filter(function (m) {
      return isObject(m) && absolute(m.id) === kid;
    });
    var authorized = Array.isArray(document.assertionMethod) && document.assertionMethod.some(function (m) {
      return absolute(isObject(m) ? m.id : m) === kid;
    });
    if (methods.length !== 1 || !authorized || methods[0].controller !== did || methods[0].type !== "JsonWebKey") {
      throw new Error("the key " + kid + " is not a JsonWebKey listed under assertionMethod in " + url.href +
        " (a retired key, or not the issuer's)");
    }
    return {jwk: methods[0].publicKeyJwk, url: url.href + "#" + kid.slice(did.length + 1)};
  }

  /** {jwk, url} of an https kid: the JWK document under this site's keys/ (badges signed before
   * the kid became a DID URL). */
  async function keyFromUrl(kid, root) {
    var url;
    try { url = new URL(kid); } catch (error) { throw new Error("the key id " + kid + " is not a URL"); }
    if (url.origin !== location.origin || !url.pathname.startsWith(root.pathname + "keys/")) {
      throw new Error("the signing key " + url.href + " is not published on this site (" + root.href + ")");
    }
    return {jwk: await fetchJson(url), url: url.href};
  }

  /** {host, path} of the site a did:web names (did:web:host%3Aport:a:b → host:port, /a/b/). */
  function didWebSite(did) {
    if (typeof did !== "string" || !did.startsWith("did:web:")) { return null; }
    try {
      var parts = did.slice(8).split(":").map(decodeURIComponent);
      var segments = parts.slice(1);
      return {host: parts[0].toLowerCase(), path: "/" + segments.map(encodeURIComponent).join("/") +
        (segments.length ? "/" : "")};
    } catch (error) {
      return null;
    }
  }

  // --- Content -----------------------------------------------------------------------------

  /** Where the VC-JWT's credential and credential.json differ, or null. The payload carries the
   * Data Integrity proof (OB 3.0 section 8.2); a token without one is compared without it. */
  function contentDifference(payload, credential) {
    if (!isObject(credential)) { return "the top level"; }
    var signed = {}, hosted = {}, withProof = Object.prototype.hasOwnProperty.call(payload, "proof");
    Object.keys(payload).forEach(function (k) { if (JWT_CLAIMS.indexOf(k) < 0) { signed[k] = payload[k]; } });
    Object.keys(credential).forEach(function (k) { if (k !== "proof" || withProof) { hosted[k] = credential[k]; } });
    return difference(signed, hosted, "");
  }

  function difference(a, b, path) {
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) { return path || "the top level"; }
      for (var i = 0; i < a.length; i++) {
        var d = difference(a[i], b[i], path + "[" + i + "]");
        if (d !== null) { return d; }
      }
      return null;
    }
    if (isObject(a) || isObject(b)) {
      if (!isObject(a) || !isObject(b)) { return path || "the top level"; }
      var keys = Object.keys(a);
      if (keys.length !== Object.keys(b).length) { return path || "the top level"; }
      for (var j = 0; j < keys.length; j++) {
        if (!Object.prototype.hasOwnProperty.call(b, keys[j])) { return (path ? path + "." : "") + keys[j]; }
        var e = difference(a[keys[j]], b[keys[j]], (path ? path + "." : "") + keys[j]);
        if (e !== null) { return e; }
      }
      return null;
    }
    return a === b ? null : (path || "the top level");
  }

  /** What this page shows differently from the signed credential, or null. */
  function pageMismatch(payload) {
    var subject = isObject(payload.credentialSubject) ? payload.credentialSubject : {};
    var achievement = isObject(subject.achievement) ? subject.achievement : {};
    var badgeName = document.querySelector(".certificate .badge-name");
    if (badgeName && badgeName.textContent.trim() !== String(achievement.name).trim()) {
      return "the badge is " + String(achievement.name);
    }
    var issued = document.querySelector(".certificate .facts time:not(.expiry)");
    if (issued && issued.getAttribute("datetime") !== String(payload.validFrom).slice(0, 10)) {
      return "it was issued on " + String(payload.validFrom).slice(0, 10);
    }
    var expires = document.querySelector(".certificate .expiry[data-expires]");
    var validUntil = typeof payload.validUntil === "string" ? payload.validUntil.slice(0, 10) : null;
    if (document.querySelector(".certificate .facts") &&
        (expires ? expires.getAttribute("data-expires") : null) !== validUntil) {
      return validUntil ? "it is valid until " + validUntil : "it does not expire";
    }
    return null;
  }

  /** nbf and exp must be the credential's validFrom and validUntil. */
  function claimDatesProblem(payload) {
    if (typeof payload.nbf !== "number" || seconds(payload.validFrom) !== payload.nbf) {
      return "The signed dates do not agree: nbf is not the credential's validFrom.";
    }
    if ((payload.exp === undefined) !== (payload.validUntil === undefined) ||
        (payload.exp !== undefined && (typeof payload.exp !== "number" || seconds(payload.validUntil) !== payload.exp))) {
      return "The signed dates do not agree: exp is not the credential's validUntil.";
    }
    return null;
  }

  function seconds(stamp) {
    var t = typeof stamp === "string" ? Date.parse(stamp) : NaN;
    return isNaN(t) ? NaN : Math.floor(t / 1000);
  }

  // --- Revocation: W3C Bitstring Status List -----------------------------------------------

  /** The credential's Bitstring Status List entry of ``purpose`` (credentialStatus: one entry or several). */
  function statusEntry(payload, purpose, optional) {
    var entries = [].concat(payload.credentialStatus === undefined ? [] : payload.credentialStatus);
    var found = entries.filter(function (e) { return isObject(e) && e.statusPurpose === purpose; });
    if (found.length === 1 && found[0].type === "BitstringStatusListEntry") { return found[0]; }
    if (optional && !found.length) { return null; }
    throw new Error("the credential has no " + purpose + " entry of a Bitstring Status List");
  }

  /** The reason the page gives for a suspension (its summary), if any. */
  function suspensionReason() {
    var script = document.querySelector('script[type="application/ld+json"]');
    try {
      var summary = script ? JSON.parse(script.textContent) : null;
      return isObject(summary) && typeof summary.suspendedReason === "string" ? summary.suspendedReason : "";
    } catch (error) {
      return "";
    }
  }

  async function statusBit(payload, root, entry) {
    var purpose = entry.statusPurpose;
    if (typeof entry.statusListIndex !== "string" || !/^(0|[1-9][0-9]*)$/.test(entry.statusListIndex)) {
      throw new Error("the status list index " + String(entry.statusListIndex) + " is not a number");
    }
    var index = parseInt(entry.statusListIndex, 10);
    var url;
    try { url = new URL(entry.statusListCredential); } catch (error) { throw new Error("the status list URL is not valid"); }
    if (url.origin !== location.origin || !url.pathname.startsWith(root.pathname)) {
      throw new Error("the " + purpose + " list " + url.href + " is not on this site");
    }
    var list = await fetchJson(url, true);
    var types = isObject(list) ? [].concat(list.type) : [];
    var subject = isObject(list) && isObject(list.credentialSubject) ? list.credentialSubject : null;
    if (types.indexOf("BitstringStatusListCredential") < 0 || !subject || subject.statusPurpose !== purpose) {
      throw new Error(url.href + " is not a " + purpose + " Bitstring Status List");
    }
    var listIssuer = isObject(list.issuer) ? list.issuer.id : list.issuer;
    if (listIssuer !== payload.iss) {
      throw new Error("the " + purpose + " list is published by " + String(listIssuer) + ", not by the issuer");
    }
    if (typeof list.validUntil === "string" && Date.parse(list.validUntil) <= Date.now()) {
      throw new Error("the " + purpose + " list expired on " + longDate(Date.parse(list.validUntil) / 1000));
    }
    var bits = await decodeStatusList(subject.encodedList);
    if (index >= bits.length * 8) {
      throw new Error("entry " + index + " is outside the " + purpose + " list of " + bits.length * 8 + " entries");
    }
    return (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
  }

  /** encodedList: multibase base64url ('u') of a GZIP-compressed bitstring, bit 0 = MSB of byte 0. */
  async function decodeStatusList(encoded) {
    if (typeof encoded !== "string" || encoded.charAt(0) !== "u" || !/^[A-Za-z0-9_-]+$/.test(encoded.slice(1))) {
      throw new Error("the revocation list is not multibase base64url");
    }
    var compressed = base64url(encoded.slice(1));
    var stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream("gzip"));
    var reader = stream.getReader();
    var chunks = [], total = 0;
    try {
      for (;;) {
        var next = await reader.read();
        if (next.done) { break; }
        total += next.value.length;
        if (total > STATUS_LIST_MAX_BYTES) { throw new Error("the revocation list is too large"); }
        chunks.push(next.value);
      }
    } catch (error) {
      reader.cancel().catch(function () {});
      throw error instanceof TypeError ? new Error("the revocation list is not valid GZIP data") : error;
    }
    var bits = new Uint8Array(total), offset = 0;
    chunks.forEach(function (c) { bits.set(c, offset); offset += c.length; });
    return bits;
  }

  // --- Helpers ----------------------------------------------------------------------------

  async function fetchText(url, fresh) {
    var response;
    try {
      response = await fetch(url.href, {cache: fresh ? "no-store" : "no-cache", credentials: "omit",
        redirect: "follow"});
    } catch (error) {
      throw new Error("could not download " + url.href);
    }
    if (!response.ok) { throw new Error("could not download " + url.href + " (HTTP " + response.status + ")"); }
    if (new URL(response.url || url.href).origin !== location.origin) {
      throw new Error(url.href + " redirected to another site");
    }
    return response.text();
  }

  async function fetchJson(url, fresh) {
    var text = await fetchText(url, fresh);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(url.href + " is not valid JSON");
    }
  }

  function base64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  /** A URL on this site as a path from its root (keys/jwks.json); other URLs in full. */
  function sitePath(url, root) {
    var href = String(url);
    return href.startsWith(root.href) && href.length > root.href.length ? href.slice(root.href.length) : href;
  }

  function utf8(bytes) { return new TextDecoder("utf-8", {fatal: true}).decode(bytes); }

  function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }

  /** 1 March 2029, from seconds since the epoch, in UTC like the page's dates. */
  function longDate(secondsSinceEpoch) {
    var d = new Date(secondsSinceEpoch * 1000);
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
  }

  function describe(error) {
    var message = error && error.message ? String(error.message) : String(error);
    return message.replace(/\.$/, "") + ".";
  }
  setUpVerifier();
})();
