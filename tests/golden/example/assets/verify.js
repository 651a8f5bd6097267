/* badgekiln's "Verify this badge" panel of award pages. The page works without this script (the
   panel stays hidden and the links to the files are the way to verify). When Verify is pressed,
   the browser checks, with no server in between and no request leaving this site:
   - the VC-JWT's RS256 signature (WebCrypto) against the key the site publishes for the issuer;
   - the Open Badges 2.0 signed assertion's RS256 signature (assertion.jws) against the key its
     verification.creator names, listed in the issuer's profile; that the hosted assertion
     (assertion.json) says what it signs and both say what the credential says; the issuer's 2.0
     revocation list;
   - the eddsa-rdfc-2022 Data Integrity proof of credential.json, the file a wallet keeps
     (W3C VC DI EdDSA 1.0, section 3.3: RDFC-1.0 with the JSON-LD library this site serves, loaded
     only now, its contexts from this site's own copies; Ed25519 with WebCrypto);
   - that neither was signed with a development key (a preview build's dev-rsa and dev-ed25519);
   - who issued it, that credential.json is exactly the signed credential, that this page shows it;
   - the validity dates against this device's clock;
   - each Bitstring Status List entry (revocation, suspension): the list's own proof and the bit.
   A browser without Ed25519 gets "Could not fully check" naming each proof it could not check,
   never "Verified". Everything written into the page goes in as text (textContent), never HTML. */
(function () {
  "use strict";

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  var STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024;
  // Registered claims ob3.jwt_claims() adds to the credential to make the VC-JWT payload.
  var JWT_CLAIMS = ["iss", "jti", "nbf", "exp", "sub"];
  // The JSON-LD library (jsonld.js with rdf-canonize), served by this site, loaded on Verify only.
  var JSONLD_LIBRARY = "assets/vendor/jsonld.min.js";
  // The only JSON-LD contexts the check resolves: this site's copies under assets/contexts/
  // (the same files as badgekiln's crypto/canon.py CONTEXT_FILES). Any other URL is refused.
  var CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/security/jwk/v1": "jwk-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    "https://w3id.org/openbadges/v2": "openbadges-v2.jsonld",
    "https://openbadgespec.org/v2/context.json": "openbadges-v2.jsonld"
  };
  // The SHA-256 of each of those files as badgekiln publishes them (tests/test_vendored.py keeps
  // them equal to data/contexts/): a copy changed on the host (a context that gives a term another
  // meaning changes what a proof covers) is refused, not used.
  var CONTEXT_SHA256 = {
    "credentials-v1.jsonld": "00d7dd6d3ad8b920e3e550dd3a3d9090bffcac84cdbf943da6924b3e0a5c8bb8",
    "credentials-v2.jsonld": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "data-integrity-v2.jsonld": "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
    "did-v1.jsonld": "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
    "jwk-v1.jsonld": "2104b613e092e6d7e2212fee1a7f1233c74001e2da06b86fd0fd7365c7159e4b",
    "multikey-v1.jsonld": "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6",
    "ob-v3p0-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "ob-v3p0-extensions.json": "2d013f981d1f4516081a6a04e55468ba2b071d4153b794f19a79715c45a89a5e",
    "openbadges-v2.jsonld": "3c0c25a0e581c64cbe632197377c4f334c6c0b95f0d90e3b74449781612b153d",
    "vc-bitstring-status-list-v1.jsonld": "fd08cbf28ddd829ab2f1978c48f43ab07a112c1c90245a0cfac7ba721c65170c"
  };
  var PURPOSES = {revocation: {list: "revocation list", set: "Revoked", kind: "revoked"},
    suspension: {list: "suspension list", set: "Suspended", kind: "suspended"}};
  var BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

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
      if (running) { return; }  // (a press while it checks does nothing)
      running = true;
      // aria-disabled, not disabled: a disabled button loses the focus (to the page itself, for
      // a keyboard user who pressed it), and this one keeps it through the check.
      button.setAttribute("aria-disabled", "true");
      button.textContent = "Checking…";
      panel.setAttribute("aria-busy", "true");
      verify(panel, list).catch(function (error) {
        return {kind: "incomplete", text: "Could not fully check: the check stopped with an error (" +
          describe(error).replace(/\.$/, "") + ")."};
      }).then(function (verdict) {
        running = false;
        button.removeAttribute("aria-disabled");
        button.textContent = "Verify again";
        // Not busy before the verdict is written: a screen reader leaves out what changes in a busy
        // region, and announces the verdict's line (a live region there, empty, since the page
        // loaded) only when its text changes.
        panel.removeAttribute("aria-busy");
        showVerdict(panel, verdict);
      });
    });
    // Opened as <page>#verify (where "Check a badge file" sends a file it found to be this badge):
    // the check starts at once, as if the button were pressed, with the panel in view.
    if (location.hash === "#verify") {
      panel.scrollIntoView();
      button.click();
    }
  }

  function showVerdict(panel, verdict) {
    var line = document.getElementById("verify-verdict");
    writeText(line, verdict.text);
    line.setAttribute("data-verdict", verdict.kind);
    var details = document.getElementById("verify-details");
    if (details) {
      details.hidden = false;
      // What went wrong is shown at once; a clean result keeps its steps folded.
      details.open = verdict.kind !== "valid";
    }
    panel.setAttribute("data-verdict", verdict.kind);
  }

  // What a step's icon says, in words a screen reader reads (the icon itself is aria-hidden).
  var STATE_WORDS = {ok: "Passed: ", fail: "Failed: ", unchecked: "Not fully checked: "};

  /** A step of the check: a list item that starts "in progress" and ends ✔, ✘ or – (not fully
   * checked), its state in words too, out of sight. */
  function Step(list, text) {
    this.item = document.createElement("li");
    this.icon = document.createElement("span");
    this.icon.className = "verify-icon";
    this.icon.setAttribute("aria-hidden", "true");
    this.state = document.createElement("span");
    this.state.className = "visually-hidden";
    this.text = document.createElement("span");
    this.text.className = "verify-text";
    this.item.append(this.icon, this.state, this.text);
    list.append(this.item);
    this.set("running", "…", text);
  }
  Step.prototype.set = function (state, icon, text) {
    this.item.className = "verify-step " + state;
    this.item.setAttribute("data-state", state);
    this.icon.textContent = icon;
    // (a text that begins by saying it was not checked is not told so twice)
    var said = state === "unchecked" && /^not (fully )?checked:/i.test(text);
    this.state.textContent = said ? "" : STATE_WORDS[state] || "";
    writeText(this.text, text);
  };
  Step.prototype.ok = function (text) { this.set("ok", "✔", text); return true; };
  Step.prototype.fail = function (text) { this.set("fail", "✘", text); return false; };
  Step.prototype.skip = function (text) { this.set("unchecked", "–", text); return false; };

  async function verify(panel, list) {
    list.textContent = "";
    var verdictLine = document.getElementById("verify-verdict");
    verdictLine.textContent = "";  // (empty, it is out of sight, still a live region: see badgekiln.css)
    verdictLine.removeAttribute("data-verdict");
    var details = document.getElementById("verify-details");
    if (details) { details.hidden = false; details.open = true; }
    panel.removeAttribute("data-verdict");

    var root = new URL(panel.getAttribute("data-root") || "./", location.href);
    var jwtUrl = new URL(panel.getAttribute("data-jwt"), location.href);
    var credentialUrl = new URL(panel.getAttribute("data-credential"), location.href);
    var jwksUrl = panel.getAttribute("data-jwks") ? new URL(panel.getAttribute("data-jwks"), location.href)
      : new URL("keys/jwks.json", root);
    var context = {root: root, didDocuments: {}, ed25519: null, jsonld: null};

    // 1. Signature: the VC-JWT, checked with the key its header names, if this site publishes it.
    var step = new Step(list, "Checking the signature of the credential…");
    var jwt, credential;
    try {
      var both = await Promise.all([fetchText(jwtUrl), fetchJson(credentialUrl)]);
      jwt = parseJwt(both[0]);
      credential = both[1];
    } catch (error) {
      if (error.unavailable) {  // (offline, or the host did not send it: nothing was checked)
        step.skip("Could not download the credential: " + describe(error));
        return {kind: "incomplete", text: "Could not fully check: " + describe(error).replace(/\.$/, "") +
          ", so nothing was checked. Try again later; the badge is not shown to be valid or invalid."};
      }
      step.fail("Could not read the credential: " + describe(error));
      return {kind: "invalid", text: "Not verified: the credential could not be read (" +
        describe(error).replace(/\.$/, "") + ")."};
    }
    var key;
    try {
      key = await publishedKey(jwt.header, root, jwksUrl);
    } catch (error) {
      if (error.keyFilesMissing) {  // (publishedKey: neither of this site's key files could be downloaded)
        step.skip("Signature not checked: " + describe(error));
        return {kind: "incomplete", text: "Could not fully check: this site's published keys could not be " +
          "downloaded (" + sitePath(jwksUrl.href, root) + ", " + sitePath(siteDidUrl(root).href, root) + "), so " +
          "the signature was not checked. Try again later; the badge is not shown to be valid or invalid."};
      }
      step.fail("Signature not checked: " + describe(error));
      if (error.foreign) {
        return {kind: "invalid", text: "Not verified: this badge names a signing key of another site (" +
          error.foreign + "), not of " + root.host + root.pathname.replace(/\/$/, "") + "; its signature was " +
          "not checked here."};
      }
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
    var unchecked = [];  // proofs this browser could not check
    if (key.missing) {
      // The signature holds with a key one of the site's two key files gives; the other could not
      // say whether it still lists it. (A review: "Signature is valid: signed by the issuer's key"
      // under a – said more than was checked.)
      step.skip("Not fully checked: the signature holds for the key " + key.kid + " (" + sitePath(key.url, root) +
        (key.namedIn ? ", named in " + sitePath(key.namedIn, root) : "") + "), but " + sitePath(key.missing, root) +
        " could not be downloaded, so whether it still lists that key (a key the issuer retires is taken out of " +
        "it) is not confirmed.");
      unchecked.push("whether " + sitePath(key.missing, root) + " lists the key (it could not be downloaded)");
    } else {
      step.ok("Signature is valid: signed by " + issuerName + "'s key " + key.kid + " (" + sitePath(key.url, root) +
        ", listed in " + sitePath(jwksUrl.href, root) + ").");
    }

    // 2. The Data Integrity proof of credential.json, the file a wallet keeps.
    step = new Step(list, "Checking the proof of the credential file…");
    var credentialFile = sitePath(credentialUrl.href, root);
    var proof = await checkDataIntegrity(credential, context);
    if (proof.state === "fail") {
      step.fail(proofFailure(proof, "the Data Integrity proof of " + credentialFile));
      return {kind: "invalid", text: "Not verified: the credential file " + credentialFile + " " + proof.why + "."};
    } else if (proof.state === "skip") {
      unchecked.push("the Data Integrity proof (eddsa-rdfc-2022) of " + credentialFile);
      step.skip("Not checked: " + proof.text + " The Data Integrity proof (eddsa-rdfc-2022) of " + credentialFile +
        " was not checked.");
    } else {
      step.ok("The Data Integrity proof (eddsa-rdfc-2022) of " + credentialFile + " is valid: signed by " +
        issuerName + "'s key " + proof.method + " (" + sitePath(proof.url, root) + ").");
    }

    var problems = [];  // checks that make the badge "not verified"
    var statusUnknown = [];  // status lists that could not be checked

    // 3. Development keys: a preview build signs with throwaway ones (isDevelopmentKey). Its
    // signatures hold, so without this step the page would say "Verified" over keys no verifier
    // trusts; the build's own banner says so too.
    var developmentKids = [key.kid].concat(proof.state === "ok" ? [proof.method] : []).filter(isDevelopmentKey);
    var developmentStep = null;
    function signedWithDevelopmentKeys() {  // (again when the 2.0 assertion adds its key to the list)
      developmentStep = developmentStep || new Step(list, "");
      developmentStep.fail("Signed with " + (developmentKids.length === 1 ? "a development key" :
        "development keys") + " (" + sentence(developmentKids) + "): this is a preview build, not signed with " +
        issuerName + "'s own key, so no verifier will trust it.");
    }
    if (developmentKids.length) {
      signedWithDevelopmentKeys();
      problems.push("it is signed with a development key (a preview build), not the issuer's own key");
    }

    // 4. Issuer: the signed iss is the credential's issuer, and its did:web names this site.
    step = new Step(list, "Checking who issued it…");
    var credentialIssuer = issuerId(credential), elsewhere = false;
    var didSite = didWebSite(payload.iss);
    if (typeof payload.iss !== "string" || payload.iss !== issuer.id || payload.iss !== credentialIssuer) {
      step.fail("Issuer does not match: the VC-JWT says " + String(payload.iss) +
        ", the credential says " + String(credentialIssuer) + ".");
      problems.push("the VC-JWT and the credential name different issuers");
    } else if (!didSite || didSite.host !== root.host || didSite.path !== root.pathname) {
      elsewhere = true;
      step.fail("The issuer " + payload.iss + " is not the owner of this site (" + root.host +
        root.pathname + "): open the badge at its official address to check it here.");
      problems.push("its issuer is not the owner of this site");
    } else {
      step.ok("Issued by " + issuerName + " (" + payload.iss + ").");
    }

    // 5. Content: this page's credential, and credential.json says exactly what was signed.
    step = new Step(list, "Comparing the published credential with the signed one…");
    var difference = contentDifference(payload, credential);
    if (payload.jti !== credentialUrl.href || !isObject(credential) || credential.id !== payload.jti) {
      step.fail("This is not this page's credential: its id is " + String(payload.jti) +
        ", the page's is " + credentialUrl.href + ".");
      problems.push("it is not this page's credential");
    } else if (difference !== null) {
      step.fail("The published credential.json differs from the signed credential at " + difference + ".");
      problems.push(credentialFile + " differs from the credential signed in the VC-JWT");
    } else {
      step.ok("Content matches: " + credentialFile + " is exactly the signed credential of this badge.");
    }

    // 5b. The Open Badges 2.0 files of this badge, offered beside the credential: the signed
    // assertion's RS256 signature, the hosted assertion, and that both say what the credential says.
    var ob2 = elsewhere ? null : await checkOpenBadges2(panel, root, payload, context);
    if (elsewhere) {  // (the verdict is "not verified" already; the 2.0 files name the issuer's site too)
      new Step(list, "").skip("Not checked: the Open Badges 2.0 assertions, which name keys on the issuer's own " +
        "site, not this one.");
    } else if (ob2) {
      step = new Step(list, "");
      if (ob2.state === "fail") {
        step.fail(ob2.text);
        problems.push(ob2.problem);
      } else if (ob2.state === "skip") {
        step.skip(ob2.text);
        unchecked.push(ob2.unchecked);
      } else {
        step.ok(ob2.text);
      }
      if (ob2.development) {
        if (!developmentKids.length) {
          problems.push("it is signed with a development key (a preview build), not the issuer's own key");
        }
        developmentKids.push(ob2.development);
        signedWithDevelopmentKeys();
      }
      if (ob2.listUnchecked) { statusUnknown.push(ob2.listUnchecked); }
    }

    // 6. This page shows what the signed credential says.
    var earner = null;
    if (document.querySelector(".certificate .badge-name")) {
      step = new Step(list, "Comparing this page with the credential…");
      var mismatch = pageMismatch(payload);
      if (mismatch !== null) {
        step.fail("This page does not show what the signed credential says: " + mismatch + ".");
        problems.push("this page does not show what the credential says");
      } else {
        earner = panel.getAttribute("data-earner") ? isolated(panel.getAttribute("data-earner")) : null;
        step.ok("This page shows the badge name and dates of the signed credential." + (earner ? " The earner's " +
          "name, " + earner + ", is shown by this page on the issuer's site: the credential names the earner by a " +
          "salted hash of their email address." : ""));
      }
    }

    // 7. Validity dates against this device's clock.
    step = new Step(list, "Checking the dates…");
    var now = Date.now() / 1000;
    var expired = false, notYet = false;
    var datesProblem = claimDatesProblem(payload);
    if (datesProblem) {
      step.fail(datesProblem);
      problems.push("its signed dates do not agree");
    } else if (typeof payload.nbf === "number" && now < payload.nbf) {
      notYet = true;
      step.fail("Not valid yet: valid from " + longDate(payload.nbf) + ".");
    } else if (typeof payload.exp === "number" && now >= payload.exp) {
      expired = true;
      step.fail("Expired on " + longDate(payload.exp) + ".");
    } else if (typeof payload.exp === "number") {  // (dates only: a revoked badge is not "valid until")
      step.ok("Not expired: its expiry date is " + longDate(payload.exp) + ".");
    } else {
      step.ok("Issued on " + longDate(payload.nbf) + "; does not expire.");
    }

    // 8. Status: each Bitstring Status List entry (revocation, suspension), its list's proof and bit.
    var statusSet = null, statusFrom = null;  // (the purpose found set, and what says so)
    var entries = payload.credentialStatus === undefined ? [] : [].concat(payload.credentialStatus);
    if (!entries.length) {
      new Step(list, "").ok("The credential has no status list entry: the issuer cannot revoke or suspend it.");
    }
    for (var i = 0; i < entries.length; i++) {
      var purpose = isObject(entries[i]) && Object.prototype.hasOwnProperty.call(PURPOSES, entries[i].statusPurpose)
        ? PURPOSES[entries[i].statusPurpose] : null;
      step = new Step(list, "Checking the issuer's " + (purpose ? purpose.list : "status list") + "…");
      if (!purpose) {
        statusUnknown.push("a status entry of an unknown purpose");
        step.skip("Not checked: status entry " + (i + 1) + " is not a revocation or suspension entry.");
        continue;
      }
      var status;
      try {
        status = await checkStatus(entries[i], payload.iss, context);
      } catch (error) {
        statusUnknown.push("the " + purpose.list);
        step.skip("Not checked: " + describe(error));
        continue;
      }
      var listName = "the issuer's " + purpose.list + " " + sitePath(status.url, root);
      var entry = "this credential (entry " + status.index + ")";
      if (status.proof.state === "fail") {
        step.fail(proofFailure(status.proof, "the Data Integrity proof of the " + purpose.list + " " +
          sitePath(status.url, root)) + " Whether this credential is " + purpose.set.toLowerCase() + " is unknown.");
        problems.push("the proof of the " + purpose.list + " " + sitePath(status.url, root) + " does not hold, so " +
          "whether it is " + purpose.set.toLowerCase() + " is unknown");
        continue;
      }
      var proofNote = status.proof.state === "skip" ? " Its Data Integrity proof was not checked: " + status.proof.text
        : " Its Data Integrity proof is valid.";
      if (status.proof.state === "skip") {
        unchecked.push("the Data Integrity proof of the " + purpose.list + " " + sitePath(status.url, root));
      }
      if (status.set) {
        statusFrom = statusSet ? statusFrom : "the issuer's " + purpose.list;
        statusSet = statusSet || purpose;
        step.fail(purpose.set + ": " + listName + " marks " + entry + " as " + purpose.set.toLowerCase() + "." +
          proofNote);
      } else if (status.proof.state === "skip") {
        step.skip("Not " + purpose.set.toLowerCase() + " according to " + listName + ", which does not mark " + entry +
          "." + proofNote);
      } else {
        step.ok("Not " + purpose.set.toLowerCase() + ": " + listName + " does not mark " + entry + "." + proofNote);
      }
    }

    if (ob2 && ob2.withdrawn) {
      var said = PURPOSES[ob2.withdrawn];
      if (!statusSet) {  // (the credential's status list did not say so, or could not be checked)
        statusSet = said;
        statusFrom = "the issuer's " + ob2.where;
        new Step(list, "").fail(said.set + ": the issuer's " + ob2.where + " marks this badge as " +
          said.set.toLowerCase() + ".");
      }
    }

    var issued = typeof payload.validFrom === "string" ? longDate(seconds(payload.validFrom)) : "an unknown day";
    var summary = "issued by " + issuerName + (earner ? " to " + earner : "") + " on " + issued;
    if (problems.length) {  // (a withdrawn badge says so here too: a review found a preview's revocation hidden)
      if (statusSet) { problems.push(statusFrom + " marks it as " + statusSet.set.toLowerCase()); }
      return {kind: "invalid", text: "Not verified: " + problems.join("; ") + "."};
    }
    if (statusSet) {
      var reason = statusReason(statusSet.kind);
      return {kind: statusSet.kind, text: "Not verified: " + statusSet.set.toLowerCase() + " by " + issuerName +
        (reason ? " (" + reason + ")" : "") + ". This badge, " + summary + ", is " +
        (statusSet.kind === "suspended" ? "not valid while the suspension lasts." : "no longer valid.")};
    }
    if (expired) {
      return {kind: "expired", text: "Not verified: expired on " + longDate(payload.exp) + ". This badge is genuine, " +
        summary + ", but it is no longer valid."};
    }
    if (notYet) {
      return {kind: "invalid", text: "Not verified: not valid yet. This badge is only valid from " +
        longDate(payload.nbf) + "."};
    }
    var missing = unchecked.concat(statusUnknown);
    if (missing.length) {
      return {kind: "incomplete", text: "Could not fully check" +
        (unchecked.length && context.ed25519 === false ? " (this browser cannot check Ed25519 signatures)" : "") +
        ". Not checked: " + missing.join("; ") + ". Everything else checked out: " + summary + "."};
    }
    // The page's own address is what tells a look-alike site (its own name, its own keys) from the
    // issuer's: a copy of this page anywhere else fails step 4. (Verifier review: the verdicts of
    // the real site and of a copycat were word for word the same.)
    var site = root.host + root.pathname.replace(/\/$/, "");
    return {kind: "valid", text: "Verified: " + summary + ". This page is at " + site + ", the site that " +
      "signed it: make sure that is " + issuerName + "'s own address."};
  }

  // --- Data Integrity: eddsa-rdfc-2022 -------------------------------------------------------

  /** The step text of a failed proof check: "Not checked: …" when the proof names a key that is
   * not the issuer's, "… is invalid: …" otherwise. */
  function proofFailure(proof, what) {
    return proof.keyProblem ? "Not checked: " + what + " names a key that is not this issuer's: " + proof.text
      : what.charAt(0).toUpperCase() + what.slice(1) + " is invalid: " + proof.text;
  }

  /** {state: "ok", method, url} | {state: "fail"|"skip", text}: the document's one
   * eddsa-rdfc-2022 proof (W3C VC DI EdDSA 1.0, 3.3.2 Verify Proof), checked against the issuer's
   * key in this site's did.json. "skip" when this browser cannot check it (no Ed25519). */
  async function checkDataIntegrity(document, context) {
    var proof;
    try {
      if (!isObject(document)) { throw new Error("the document is not a JSON object"); }
      proof = singleProof(document);
    } catch (error) {
      return {state: "fail", text: describe(error), why: "carries no usable proof of who issued it"};
    }
    var aliasing = jsonLdAliasing(document);
    if (aliasing !== null) {
      return {state: "fail", text: aliasing + ": the proof would not cover what this check reads from the file.",
        why: "holds data its proof does not cover (" + aliasing + ")"};
    }
    var signature;
    try {
      signature = multibase58(proof.proofValue);
    } catch (error) {
      return {state: "fail", text: "its proofValue is not multibase base58btc.", why: "has a malformed proof"};
    }
    if (signature.length !== 64) {
      return {state: "fail", text: "its proofValue holds " + signature.length + " bytes; an Ed25519 signature has 64.",
        why: "has a malformed proof"};
    }
    var method = proof.verificationMethod, found;
    var did = method.split("#")[0];
    if (did !== issuerId(document)) {
      return {state: "fail", keyProblem: true, text: "the key " + method + " is not a key of the issuer " +
        String(issuerId(document)) + ".", why: "is not signed with a key of its issuer"};
    }
    try {
      found = await multikeyFromDid(method, context);
    } catch (error) {
      if (error.unavailable && error.unavailable === siteDidUrl(context.root).href) {  // (see the signature's step)
        return {state: "skip", text: describe(error)};
      }
      return {state: "fail", keyProblem: true, text: describe(error), why: "is not signed with a key of its issuer"};
    }
    var publicKey = await importEd25519(found.raw, context);
    if (publicKey === null) {
      return {state: "skip", text: "this browser cannot check Ed25519 signatures."};
    }
    if (publicKey === undefined) {
      return {state: "fail", text: "the key " + method + " in " + sitePath(found.url, context.root) +
        " is not an Ed25519 public key.", why: "is not signed with a valid key of its issuer"};
    }
    var jsonld, data;
    try {
      jsonld = await loadJsonld(context);
    } catch (error) {
      return {state: "skip", text: describe(error)};
    }
    try {
      data = await hashData(jsonld, document, proof, context);
    } catch (error) {
      var missing = unavailableCause(error);
      if (missing) { return {state: "skip", text: "could not download " + missing + ", a JSON-LD context it needs."}; }
      return {state: "fail", text: "it could not be canonicalized (" + jsonldMessage(error) + ").",
        why: "holds data its proof cannot cover (" + jsonldMessage(error) + ")"};
    }
    var valid = false;
    try {
      valid = await crypto.subtle.verify({name: "Ed25519"}, publicKey, signature, data);
    } catch (error) {
      valid = false;
    }
    if (!valid) {
      return {state: "fail", text: "the signature does not match: the file was changed after it was signed, or " +
        "not signed with the key " + method + ".",
        why: "was changed after it was signed, or was not signed by its issuer"};
    }
    return {state: "ok", method: method, url: found.url};
  }

  var VALUE_KEYWORDS = ["@value", "@language", "@direction"];  // (a value object's, beside @value)

  /** Why the JSON of a document may say something other than what its Data Integrity proof signs,
   * or null (verifying/ob3.py json_ld_aliasing, the same rules). The proof signs the RDF, but this
   * check reads JSON members by name (a status list's encodedList, a credential's validUntil): an
   * inline @context, a full or compact IRI, a keyword such as @nest or @included, or a null (which
   * JSON-LD drops) could move signed data away from the name read, or put unsigned data under it
   * (a review: a status list with an inline context read all-zero bits while its proof held). Only
   * the terms of the known contexts are taken: every @context entry the address of one, at the top
   * level only. "__proto__" is refused too: a copy made by assignment would drop it from what is
   * hashed and compared. */
  function jsonLdAliasing(document) {
    var contexts = [].concat(document["@context"]);
    for (var c = 0; c < contexts.length; c++) {
      if (typeof contexts[c] !== "string") { return "an @context entry is an inline object, not the address of a known context"; }
    }
    var stack = [[document, ""]];
    while (stack.length) {
      var item = stack.pop(), node = item[0], where = item[1];
      if (Array.isArray(node)) {
        for (var i = 0; i < node.length; i++) {
          if (node[i] === null) { return "a null in the array " + (where || "(root)") + ", which JSON-LD drops"; }
          stack.push([node[i], where]);
        }
        continue;
      }
      if (!isObject(node)) { continue; }
      var keys = Object.keys(node);
      for (var k = 0; k < keys.length; k++) {
        var key = keys[k], at = where ? " of " + where : "";
        if (key === "@context" && node === document) { continue; }
        if (VALUE_KEYWORDS.indexOf(key) >= 0 && Object.prototype.hasOwnProperty.call(node, "@value")) { continue; }
        if (key === "@context") { return "an inline @context" + at + ", which could give the terms other meanings"; }
        if (key === "__proto__") { return "the member __proto__" + at + " is not a term"; }
        if (key.indexOf(":") >= 0 || key.charAt(0) === "@") { return "the member " + key + at + " is an IRI or a keyword, not a term"; }
        if (node[key] === null) { return "the member " + key + at + " is null, which JSON-LD drops"; }
        stack.push([node[key], where ? where + "/" + key : key]);
      }
    }
    return null;
  }

  /** ``object[key] = value`` as an own member whatever the key ("__proto__" would set the prototype). */
  function put(object, key, value) {
    Object.defineProperty(object, key, {value: value, enumerable: true, writable: true, configurable: true});
  }

  function singleProof(document) {
    var proof = document.proof;
    if (Array.isArray(proof)) {
      if (proof.length !== 1) { throw new Error("it has " + proof.length + " proofs; exactly one is expected"); }
      proof = proof[0];
    }
    if (proof === undefined) { throw new Error("it has no proof"); }
    if (!isObject(proof)) { throw new Error("its proof is not a JSON object"); }
    var expected = {type: "DataIntegrityProof", cryptosuite: "eddsa-rdfc-2022", proofPurpose: "assertionMethod"};
    Object.keys(expected).forEach(function (name) {
      if (proof[name] !== expected[name]) {
        throw new Error("its proof " + name + " is " + JSON.stringify(proof[name]) + ", not " + expected[name]);
      }
    });
    if (typeof proof.verificationMethod !== "string" || !proof.verificationMethod) {
      throw new Error("its proof names no verificationMethod");
    }
    if (typeof proof.proofValue !== "string") { throw new Error("its proof has no proofValue"); }
    return proof;
  }

  /** sha256(RDFC-1.0(proof options with the document's @context)) || sha256(RDFC-1.0(document
   * without proof)), as crypto/dataintegrity.py hash_data() computes them. */
  async function hashData(jsonld, document, proof, context) {
    var unsecured = {}, options = {};
    Object.keys(document).forEach(function (k) { if (k !== "proof") { put(unsecured, k, document[k]); } });
    Object.keys(proof).forEach(function (k) { if (k !== "proofValue") { put(options, k, proof[k]); } });
    if (Object.prototype.hasOwnProperty.call(options, "@context")) {
      // VC DI EdDSA 1.0, verify step 4: the proof's @context must be a prefix of the document's.
      var proofContext = [].concat(options["@context"]), documentContext = [].concat(document["@context"]);
      if (JSON.stringify(documentContext.slice(0, proofContext.length)) !== JSON.stringify(proofContext)) {
        throw new Error("the proof's @context is not a prefix of the document's");
      }
      delete options["@context"];
      unsecured["@context"] = proofContext;
    }
    if (unsecured["@context"] === undefined) { throw new Error("the document has no @context"); }
    options["@context"] = unsecured["@context"];
    var canonical = await Promise.all([canonize(jsonld, options, context), canonize(jsonld, unsecured, context)]);
    var hashes = await Promise.all(canonical.map(function (text) {
      return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    }));
    var data = new Uint8Array(64);
    data.set(new Uint8Array(hashes[0]), 0);
    data.set(new Uint8Array(hashes[1]), 32);
    return data;
  }

  /** RDFC-1.0 N-Quads of a document, in jsonld.js safe mode: a term the contexts do not define, or
   * a relative IRI, is an error rather than silently left out of what the signature covers. */
  function canonize(jsonld, document, context) {
    return jsonld.canonize(document, {algorithm: "RDFC-1.0", format: "application/n-quads", safe: true,
      documentLoader: context.documentLoader});
  }

  /** The address of a file this site did not send, if that is what made jsonld.js fail (its
   * document loader's error, wrapped in details.cause), else null. */
  function unavailableCause(error) {
    for (var depth = 0; depth < 6 && error; depth++) {
      if (error.unavailable) { return error.unavailable; }
      error = error.details && error.details.cause ? error.details.cause : error.cause;
    }
    return null;
  }

  /** What went wrong in jsonld.js, in its own words (safe mode names the dropped term or IRI). */
  function jsonldMessage(error) {
    // jsonld.js wraps what failed (a context this site does not publish...) in details.cause.
    for (var depth = 0; depth < 5 && error && error.details && error.details.cause; depth++) {
      error = error.details.cause;
    }
    var event = error && error.details && error.details.event;
    var message = event && event.message ? event.message : describe(error);
    var term = event && event.details && (event.details.property || event.details.term || event.details.iri);
    return message.replace(/\.$/, "") + (typeof term === "string" ? ": " + term : "");
  }

  /** jsonld.js, loaded once from this site when a proof needs it, with a document loader that
   * serves only the known contexts, from this site's copies, and refuses every other URL. */
  function loadJsonld(context) {
    if (context.jsonld) { return context.jsonld; }
    var cache = {};
    context.documentLoader = async function (url) {
      if (!Object.prototype.hasOwnProperty.call(CONTEXTS, url)) {
        throw new Error("the JSON-LD context " + url + " is not one this site publishes, and this check fetches " +
          "nothing from other sites");
      }
      if (!cache[url]) { cache[url] = fetchContext(new URL("assets/contexts/" + CONTEXTS[url], context.root), CONTEXTS[url]); }
      var document = await cache[url];
      return {contextUrl: null, documentUrl: url, document: JSON.parse(JSON.stringify(document))};
    };
    context.jsonld = window.jsonld && window.jsonld.canonize ? Promise.resolve(window.jsonld)
      : new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = new URL(JSONLD_LIBRARY, context.root).href;
        script.onload = function () {
          if (window.jsonld && typeof window.jsonld.canonize === "function") { resolve(window.jsonld); }
          else { reject(new Error(script.src + " is not the JSON-LD library")); }
        };
        script.onerror = function () { reject(new Error("could not load the JSON-LD library " + script.src)); };
        document.head.append(script);
      });
    return context.jsonld;
  }

  /** A context file of this site, refused unless its bytes are the ones badgekiln publishes. */
  async function fetchContext(url, name) {
    var text = await fetchJsonText(url);
    var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
    var hex = Array.prototype.map.call(digest, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
    if (hex !== CONTEXT_SHA256[name]) {
      throw new Error("the JSON-LD context " + url.href + " is not the one badgekiln publishes (it was changed)");
    }
    return JSON.parse(text);
  }

  /** The CryptoKey of a 32-byte Ed25519 public key; null when this browser has no Ed25519
   * (remembered in context.ed25519), undefined when the bytes are not a key. */
  async function importEd25519(raw, context) {
    if (context.ed25519 === false) { return null; }
    try {
      var key = await crypto.subtle.importKey("raw", raw, {name: "Ed25519"}, false, ["verify"]);
      context.ed25519 = true;
      return key;
    } catch (error) {
      if (error && error.name === "NotSupportedError") {
        context.ed25519 = false;
        return null;
      }
      return undefined;
    }
  }

  /** {raw, url}: the Ed25519 public key of a Multikey method of this site's did:web, controlled by
   * the DID and listed under assertionMethod in did.json (fetched from this site only). */
  async function multikeyFromDid(method, context) {
    var found = await didMethod(method, "Multikey", context.root, context.didDocuments);
    var m = found.method;
    var bytes;
    try { bytes = multibase58(m.publicKeyMultibase); } catch (error) { bytes = new Uint8Array(0); }
    if (bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) {
      throw new Error("the key " + method + " in " + sitePath(found.url, context.root) + " is not an Ed25519 Multikey");
    }
    return {raw: bytes.slice(2), url: found.url};
  }

  // --- Status: W3C Bitstring Status List -------------------------------------------------------

  /** {set, index, url, proof} of one status entry: its list fetched from this site, the list's own
   * proof checked, and the entry's bit read. Throws when the entry or the list is unusable. */
  async function checkStatus(entry, iss, context) {
    var root = context.root, purpose = entry.statusPurpose, name = PURPOSES[purpose].list;
    if (entry.type !== "BitstringStatusListEntry") {
      throw new Error("the status entry is not a Bitstring Status List entry");
    }
    if (entry.statusSize !== undefined && String(entry.statusSize) !== "1") {
      throw new Error("the " + name + " uses " + String(entry.statusSize) +
        "-bit entries, which this check does not read");
    }
    if (typeof entry.statusListIndex !== "string" || !/^(0|[1-9][0-9]{0,9})$/.test(entry.statusListIndex)) {
      throw new Error("the status list index " + String(entry.statusListIndex) + " is not a number");
    }
    var index = parseInt(entry.statusListIndex, 10);
    var url;
    try { url = new URL(entry.statusListCredential); } catch (error) { throw new Error("the status list URL is not valid"); }
    if (url.origin !== location.origin || !url.pathname.startsWith(root.pathname)) {
      throw new Error("the " + name + " " + url.href + " is not on this site");
    }
    var list = await fetchJson(url, true);
    var types = isObject(list) ? [].concat(list.type) : [];
    var subject = isObject(list) && isObject(list.credentialSubject) ? list.credentialSubject : null;
    if (types.indexOf("BitstringStatusListCredential") < 0 || !subject ||
        [].concat(subject.statusPurpose).indexOf(purpose) < 0) {
      throw new Error(url.href + " is not a " + purpose + " Bitstring Status List");
    }
    if (issuerId(list) !== iss) {
      throw new Error("the " + name + " is published by " + String(issuerId(list)) + ", not by the issuer");
    }
    if (typeof list.validUntil === "string" && Date.parse(list.validUntil) <= Date.now()) {
      throw new Error("the " + name + " expired on " + longDate(Date.parse(list.validUntil) / 1000));
    }
    var proof = await checkDataIntegrity(list, context);
    var bits = await decodeStatusList(subject.encodedList, name);
    if (index >= bits.length * 8) {
      throw new Error("entry " + index + " is outside the " + name + " of " + bits.length * 8 + " entries");
    }
    return {set: (bits[index >> 3] & (0x80 >> (index & 7))) !== 0, index: index, url: url.href, proof: proof};
  }

  /** encodedList: multibase base64url ('u') of a GZIP-compressed bitstring, bit 0 = MSB of byte 0. */
  async function decodeStatusList(encoded, name) {
    if (typeof encoded !== "string" || encoded.charAt(0) !== "u" || !/^[A-Za-z0-9_-]+$/.test(encoded.slice(1))) {
      throw new Error("the " + name + " is not multibase base64url");
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
        if (total > STATUS_LIST_MAX_BYTES) { throw new Error("the " + name + " is too large"); }
        chunks.push(next.value);
      }
    } catch (error) {
      reader.cancel().catch(function () {});
      throw error instanceof TypeError ? new Error("the " + name + " is not valid GZIP data") : error;
    }
    var bits = new Uint8Array(total), offset = 0;
    chunks.forEach(function (c) { bits.set(c, offset); offset += c.length; });
    return bits;
  }

  // --- JWT and keys ------------------------------------------------------------------------

  function parseJwt(text, name) {
    var parts = text.trim().split(".");
    if (parts.length !== 3 || !parts.every(function (p) { return /^[A-Za-z0-9_-]+$/.test(p); })) {
      throw new Error((name || "credential.jwt") + " is not a compact JWS");
    }
    var header = JSON.parse(utf8(base64url(parts[0])));
    if (!isObject(header)) { throw new Error("the " + (name ? "JWS" : "JWT") + " header is not a JSON object"); }
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
  /** {cryptoKey, kid, url, missing, namedIn} of the RS256 key ``header`` names, if this site
   * publishes it: named by its did.json (or, for an older badge, by its JWK's URL under keys/) and
   * listed in the key set ``jwksUrl``. When one of this site's two key files (the key set,
   * did.json: addresses the page gives, not the badge) cannot be downloaded, the key comes from the
   * other, and ``missing`` is the URL of the one that could not confirm it (``namedIn``: did.json,
   * when it confirmed a key named by its URL): the signature is still checked, so a changed or
   * forged badge still fails; only both files missing (an Error marked ``keyFilesMissing``) leaves
   * it unchecked. Any other failure, a key address the badge names included, throws. */
  async function publishedKey(header, root, jwksUrl) {
    if (header.alg !== "RS256") { throw new Error("the credential uses the algorithm " + header.alg + ", not RS256"); }
    if (typeof header.kid !== "string") { throw new Error("the credential does not name its key"); }
    var didUrl = siteDidUrl(root).href, fromDid = header.kid.startsWith("did:web:");
    var jwks = null, jwksMissing = false;
    try {
      jwks = await fetchJson(jwksUrl);
    } catch (error) {
      if (!error.unavailable) { throw error; }
      jwksMissing = true;
    }
    var found = null;
    try {
      found = fromDid ? await keyFromDid(header.kid, root) : await keyFromUrl(header.kid, root);
    } catch (error) {
      if (!(fromDid && error.unavailable === didUrl)) { throw error; }  // (a key address the badge names included)
      if (jwksMissing) {
        var neither = new Error("could not download " + jwksUrl.href + " nor " + didUrl);
        neither.keyFilesMissing = true;
        throw neither;
      }
      var listed = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys.filter(function (k) {
        return isObject(k) && k.kid === header.kid;
      }) : [];
      if (listed.length !== 1) { throw notListed(header.kid, jwksUrl); }
      return await rsaKey(rsaJwk(listed[0], jwksUrl.href), header.kid, jwksUrl.href, didUrl, null);
    }
    var jwk = rsaJwk(found.jwk, found.url);
    if (jwksMissing && !fromDid) {
      // An older badge's key URL: a key file stays published after its key is retired, so with the
      // key set missing, did.json must name the same key (a review: a retired key was trusted alone).
      var document;
      try {
        document = await fetchJson(new URL(didUrl));
      } catch (error) {
        if (error.unavailable !== didUrl) { throw error; }
        var none = new Error("could not download " + jwksUrl.href + " nor " + didUrl);
        none.keyFilesMissing = true;
        throw none;
      }
      var named = isObject(document) && Array.isArray(document.verificationMethod) &&
        Array.isArray(document.assertionMethod) && document.verificationMethod.some(function (m) {
          return isObject(m) && isObject(m.publicKeyJwk) && m.publicKeyJwk.n === jwk.n && m.publicKeyJwk.e === jwk.e &&
            document.assertionMethod.indexOf(m.id) >= 0;
        });
      if (!named) {
        throw new Error("the key " + header.kid + " is not one of this site's keys in " + didUrl +
          " (a retired key, or not the issuer's)");
      }
      return await rsaKey(jwk, header.kid, found.url, jwksUrl.href, didUrl);
    }
    if (jwksMissing) {
      return await rsaKey(jwk, header.kid, found.url, jwksUrl.href, null);
    }
    var inSet = isObject(jwks) && Array.isArray(jwks.keys) && jwks.keys.some(function (k) {
      return isObject(k) && k.kid === jwk.kid && k.kty === jwk.kty && k.n === jwk.n && k.e === jwk.e;
    });
    if (!inSet) { throw notListed(header.kid, jwksUrl); }
    return await rsaKey(jwk, header.kid, found.url, null, null);
  }

  function notListed(kid, jwksUrl) {
    return new Error("the key " + kid + " is not listed in this site's key set " + jwksUrl.href +
      " (a retired key, or not the issuer's)");
  }

  /** ``jwk`` if it is an RSA public key, else an Error naming ``url``, where it was found. */
  function rsaJwk(jwk, url) {
    if (!isObject(jwk) || jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") {
      throw new Error(url + " is not an RSA public key");
    }
    return jwk;
  }

  /** The key of publishedKey's answer, from an RSA JWK (see rsaJwk). */
  async function rsaKey(jwk, kid, url, missing, namedIn) {
    var cryptoKey = await crypto.subtle.importKey("jwk", {kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256", ext: true},
      {name: "RSASSA-PKCS1-v1_5", hash: "SHA-256"}, false, ["verify"]);
    return {cryptoKey: cryptoKey, kid: kid, url: url, missing: missing, namedIn: namedIn};
  }

  /** Whether a key id names one of badgekiln's development keys (dev-rsa, dev-ed25519: the ids
   * formats/urls.py DEVELOPMENT_KEY_IDS gives them), in a shape a build publishes a key under: a
   * DID URL whose fragment is the id (did:web:host#dev-rsa), or an http(s) URL whose last path
   * segment is its key file (keys/dev-rsa.json, keys/dev-rsa.jwk.json), whatever query or
   * fragment follows. A site's own key ids start with their date (2026-11-22-rsa-b44f2e); a
   * foreign "#dev-team" is not one. badgekiln verify (verifying/common.py is_development_key)
   * applies the same rule with the same string operations. */
  function isDevelopmentKey(kid) {
    var ids = ["dev-rsa", "dev-ed25519"];
    if (typeof kid !== "string") { return false; }
    if (kid.startsWith("did:")) {
      var hash = kid.indexOf("#");
      return hash >= 0 && ids.indexOf(kid.slice(hash + 1)) >= 0;
    }
    if (!kid.startsWith("https://") && !kid.startsWith("http://")) { return false; }
    var address = kid.split("#")[0].split("?")[0];
    address = address.slice(address.indexOf("://") + 3);
    var slash = address.indexOf("/");
    var name = address.slice(address.lastIndexOf("/") + 1);
    return slash >= 0 && ids.some(function (id) { return name === id + ".json" || name === id + ".jwk.json"; });
  }

  /** {jwk, url} of a did:web kid of this site: the publicKeyJwk of the JsonWebKey method with that
   * id, controlled by the site's DID and listed under its assertionMethod in did.json. */
  async function keyFromDid(kid, root) {
    var found = await didMethod(kid, "JsonWebKey", root, {});
    return {jwk: found.method.publicKeyJwk, url: found.url};
  }

  /** {method, url} of a verification method of this site's did:web: the one method of that type
   * with that id in did.json, controlled by the DID and listed under assertionMethod. did.json comes from this
   * site only: did:web:host → /.well-known/did.json, did:web:host:path → /path/did.json. */
  async function didMethod(kid, type, root, documents) {
    var did = kid.split("#")[0], site = didWebSite(did);
    if (!site || !kid.slice(did.length + 1) || site.host !== root.host || site.path !== root.pathname) {
      var refused = new Error("the signing key " + kid + " is not a key of this site (" + root.href + ")");
      if (site && (site.host !== root.host || site.path !== root.pathname)) { refused.foreign = shownSite(site); }
      throw refused;
    }
    var url = siteDidUrl(root);
    if (!documents[url.href]) { documents[url.href] = fetchJson(url); }
    var document = await documents[url.href];
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
    if (methods.length !== 1 || !authorized || methods[0].controller !== did || methods[0].type !== type) {
      throw new Error("the key " + kid + " is not a " + type + " listed under assertionMethod in " + url.href +
        " (a retired key, or not the issuer's)");
    }
    return {method: methods[0], url: url.href + "#" + kid.slice(did.length + 1)};
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

  /** A site a badge names, as a verdict may show it: its host and path, without the characters
   * that reorder or hide text, at most 100 characters (the badge is a stranger's text). */
  function shownSite(site) {
    var text = (site.host + site.path.replace(/\/$/, "")).replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "");
    return text.length > 100 ? text.slice(0, 99) + "…" : text;
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

  function issuerId(document) {
    return isObject(document) ? (isObject(document.issuer) ? document.issuer.id : document.issuer) : undefined;
  }

  // --- Open Badges 2.0 ---------------------------------------------------------------------

  /** The check of the award's Open Badges 2.0 files (null on a page that names none):
   * {state: "ok"|"fail"|"skip", text, problem (fail), unchecked (skip: what was not checked),
   * development (a key id), withdrawn ("revocation"|"suspension"), where, listUnchecked}.
   *
   * The signed assertion (assertion.jws) must name the credential's earner (the same salted
   * hash), issue and expiry dates and badge (looked at first: a genuine one always does, so no
   * missing file can soften a forged one's verdict), and verify, RS256, with the
   * CryptographicKey its verification.creator names: a key file of this site whose owner is the
   * issuer profile of this site, which lists it in its publicKey (OB 2.0, "Signed Badges": the key
   * "MUST be listed in the issuer's publicKey"). A key file the assertion names that cannot be
   * downloaded fails it, as in the 3.0 check (the address is the badge's choice); only files the
   * site publishes at addresses of its own (the assertions, issuer.json) are "not checked" when
   * missing. The hosted assertion (assertion.json) must say what it signs (its own id and
   * "HostedBadge" apart, and revoked/revocationReason, which only a hosted assertion carries).
   * Withdrawal is read whatever else is found (it needs no signature to be believed): the hosted
   * assertion's revoked, and the issuer's RevocationList; a suspension is published in OB 2.0 as a
   * revocation whose reason starts "Suspended: " (formats/ob2.py). */
  async function checkOpenBadges2(panel, root, payload, context) {
    var jwsPath = panel.getAttribute("data-jws"), hostedPath = panel.getAttribute("data-assertion");
    if (!jwsPath || !hostedPath) { return null; }
    var jwsUrl = new URL(jwsPath, location.href), hostedUrl = new URL(hostedPath, location.href);
    var jwsFile = sitePath(jwsUrl.href, root), hostedFile = sitePath(hostedUrl.href, root);
    var what = "the Open Badges 2.0 signed assertion " + jwsFile;
    var texts;
    try {
      texts = await Promise.all([fetchText(jwsUrl).then(null, missingOk), fetchJson(hostedUrl).then(null, missingOk)]);
    } catch (error) {  // (sent, but not JSON, or sent from elsewhere: a review saw the whole check stop)
      return {state: "fail", text: "The Open Badges 2.0 assertions cannot be read: " + describe(error),
        problem: "its Open Badges 2.0 assertions cannot be read"};
    }
    var jwsText = texts[0], hosted = texts[1];
    var signed = null, jws = null, readProblem = null;
    if (jwsText !== MISSING) {
      try {
        jws = parseJwt(jwsText, jwsFile);
        signed = JSON.parse(utf8(jws.payloadBytes));
        if (!isObject(signed)) { throw new Error("its payload is not a JSON object"); }
      } catch (error) {
        readProblem = describe(error);
        signed = null;
      }
    }
    // Withdrawal first: whatever the rest finds, a badge its issuer withdraws is not valid.
    var withdrawal;
    try {
      withdrawal = await ob2Withdrawal(root, hosted, [hostedUrl.href].concat(signed && typeof signed.id === "string" ?
        [signed.id] : []), hostedFile);
    } catch (error) {
      return {state: "fail", text: "The issuer's profile or Open Badges 2.0 revocation list could not be read: " +
        describe(error), problem: "the issuer's Open Badges 2.0 revocation list could not be read"};
    }
    function result(fields) {
      fields.withdrawn = withdrawal.withdrawn;
      fields.where = withdrawal.where;
      fields.listUnchecked = withdrawal.listUnchecked;
      return fields;
    }
    function fail(text, problem) { return result({state: "fail", text: text, problem: problem}); }
    function skip(text, unchecked) { return result({state: "skip", text: text, unchecked: unchecked}); }
    if (jwsText === MISSING) {
      // The hosted assertion alone is what an OB 2.0 verifier accepts (HostedBadge needs no
      // signature): it must still name the credential's earner, dates and badge (a review).
      if (hosted !== MISSING && !isObject(hosted)) {
        return fail("The hosted assertion " + hostedFile + " is not a JSON object.", "the hosted assertion " +
          hostedFile + " is not an assertion");
      }
      var hostedOther = isObject(hosted) ? ob2Mismatch(hosted, payload) : null;
      var hostedOdd = isObject(hosted) ? hostedShape(hosted, hostedUrl) : null;
      if (hostedOdd !== null) {
        return fail("The hosted assertion " + hostedFile + " is not as its site publishes it, at " + hostedOdd + ".",
          "the hosted assertion " + hostedFile + " is not as its site publishes it");
      }
      if (hostedOther !== null) {
        return fail("The hosted assertion " + hostedFile + " and the Open Badges 3.0 credential name a different " +
          hostedOther + ".", "its hosted Open Badges 2.0 assertion and its credential name a different " + hostedOther);
      }
      return skip("Not checked: could not download " + jwsFile + ". The Open Badges 2.0 signed assertion was not " +
        "checked.", "the Open Badges 2.0 signed assertion " + jwsFile + " (it could not be downloaded)");
    }
    if (readProblem !== null) {
      return fail(upper(what) + " cannot be read: " + readProblem, what + " cannot be read");
    }
    var other = ob2Mismatch(signed, payload);
    if (other !== null) {
      return fail("The Open Badges 2.0 assertion and the Open Badges 3.0 credential name a different " + other + ".",
        "its Open Badges 2.0 assertion and its credential name a different " + other);
    }
    var verification = isObject(signed.verification) ? signed.verification : {};
    if (jws.header.alg !== "RS256" || verification.type !== "SignedBadge" || typeof verification.creator !== "string") {
      return fail(upper(what) + " is not an RS256 SignedBadge that names its key (verification.creator).",
        what + " does not name its key");
    }
    var key;
    try {
      key = await ob2Key(verification.creator, root);
    } catch (error) {
      if (error.unavailable) {  // (issuer.json: an address of the site's own)
        return skip("Not checked: " + describe(error) + " The signature of " + jwsFile + " was not checked.",
          "the signature of " + jwsFile + " (" + describe(error).replace(/\.$/, "") + ")");
      }
      return fail("Signature of " + jwsFile + " not checked: " + describe(error),
        "the key of " + what + " is not one this issuer publishes");
    }
    var valid = false;
    try {
      valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key.cryptoKey, jws.signature, jws.signingInput);
    } catch (error) {
      valid = false;
    }
    if (!valid) {
      return fail("The signature of " + jwsFile + " is invalid: the assertion was changed after it was signed, or " +
        "was not signed with the issuer's key " + sitePath(verification.creator, root) + ".",
        "the signature of " + what + " is invalid");
    }
    var development = isDevelopmentKey(verification.creator) ? sitePath(verification.creator, root) : null;
    var valid2 = upper(what) + " is valid: signed with the issuer's key " + sitePath(key.url, root) + " (listed in " +
      sitePath(key.owner, root) + ")";
    if (hosted === MISSING) {
      var skipped = skip(valid2 + ", and names the earner, badge and dates of the credential; the hosted assertion " +
        hostedFile + " could not be downloaded, and was not compared with it.", "the hosted assertion " + hostedFile +
        " (it could not be downloaded)");
      skipped.development = development;
      return skipped;
    }
    var mine = {}, theirs = {};
    Object.keys(signed).forEach(function (k) { if (!HOSTED_ONLY.has(k)) { put(mine, k, signed[k]); } });
    if (isObject(hosted)) {
      Object.keys(hosted).forEach(function (k) { if (!HOSTED_ONLY.has(k)) { put(theirs, k, hosted[k]); } });
    }
    var differs = !isObject(hosted) ? "the top level" : hostedShape(hosted, hostedUrl) || difference(mine, theirs, "");
    if (differs !== null) {
      return fail("The hosted assertion " + hostedFile + " differs from the signed assertion " + jwsFile + " at " +
        differs + ".", "the hosted assertion " + hostedFile + " differs from the signed one");
    }
    return result({state: "ok", text: valid2 + "; the hosted assertion " + hostedFile + " says what it signs, and " +
      "both name the earner, badge and dates of the credential.", development: development});
  }

  // Members only a hosted assertion has: the rest must be what the signed one signs. (A Set, not an
  // object: an object literal answers for "__proto__", "constructor" and the like too, a review.)
  var HOSTED_ONLY = new Set(["id", "verification", "revoked", "revocationReason"]);
  var MISSING = {};  // (a file the host did not send: fetchText/fetchJson's "unavailable")

  function missingOk(error) {
    if (error && error.unavailable) { return MISSING; }
    throw error;
  }

  /** {withdrawn: "revocation"|"suspension"|null, where, listUnchecked}: whether the hosted
   * assertion (when it was downloaded) says revoked, or the issuer's RevocationList names one of
   * ``ids``. The list is the one this site's issuer.json names, read from this site only; a list
   * that is not a RevocationList is an Error (thrown), one that cannot be downloaded is said. */
  async function ob2Withdrawal(root, hosted, ids, hostedFile) {
    var found = {withdrawn: null, where: null, listUnchecked: null};
    function said(reason, where) {
      found.withdrawn = typeof reason === "string" && reason.startsWith("Suspended: ") ? "suspension" : "revocation";
      found.where = where;
      return found;
    }
    if (isObject(hosted) && hosted.revoked === true) { return said(hosted.revocationReason, "hosted assertion " + hostedFile); }
    var profileUrl = new URL("issuer.json", root), profile, listUrl, list;
    try {
      profile = await fetchJson(profileUrl);
      var named = isObject(profile) ? (isObject(profile.revocationList) ? profile.revocationList.id : profile.revocationList)
        : undefined;
      if (named === undefined) { return found; }  // (an issuer without a list revokes nothing this way)
      if (typeof named !== "string") { throw new Error("its revocationList is not a URL"); }
      listUrl = new URL(named);
      if (listUrl.origin !== location.origin || !listUrl.pathname.startsWith(root.pathname)) {
        throw new Error("the revocation list " + listUrl.href + " is not on this site");
      }
      list = await fetchJson(listUrl, true);
    } catch (error) {
      if (!error.unavailable) { throw error; }
      found.listUnchecked = "the Open Badges 2.0 revocation list (" + describe(error).replace(/\.$/, "") + ")";
      return found;
    }
    var types = isObject(list) ? [].concat(list.type) : [];
    if (types.indexOf("RevocationList") < 0 || !Array.isArray(list.revokedAssertions === undefined ? [] :
        list.revokedAssertions)) {
      throw new Error(sitePath(listUrl.href, root) + " is not a RevocationList");
    }
    var revoked = list.revokedAssertions || [];
    for (var i = 0; i < revoked.length; i++) {
      var id = isObject(revoked[i]) ? revoked[i].id : revoked[i];
      if (typeof id === "string" && ids.indexOf(id) >= 0) {
        return said(isObject(revoked[i]) ? revoked[i].revocationReason : "", "revocation list " +
          sitePath(listUrl.href, root));
      }
    }
    return found;
  }

  /** {cryptoKey, url, owner} of an OB 2.0 signed assertion's key: ``creator``, a
   * CryptographicKey under this site's keys/ whose owner is this site's issuer profile, which
   * lists it among its publicKey. The key file is the assertion's choice: one that cannot be
   * downloaded is an Error like any other; the profile is the site's own (unavailable: said so). */
  async function ob2Key(creator, root) {
    var url;
    try { url = new URL(creator); } catch (error) { throw new Error("the key " + creator + " is not a URL"); }
    if (url.origin !== location.origin || !url.pathname.startsWith(root.pathname + "keys/") || url.search || url.hash) {
      throw new Error("the signing key " + url.href + " is not published on this site (" + root.href + ")");
    }
    var keyDocument;
    try {
      keyDocument = await fetchJson(url);
    } catch (error) {
      throw new Error(error.unavailable ? "the key " + sitePath(url.href, root) + " it names is not on this site (" +
        describe(error).replace(/\.$/, "") + ")" : describe(error).replace(/\.$/, ""));
    }
    var owner = new URL("issuer.json", root).href;
    if (!isObject(keyDocument) || keyDocument.id !== creator || keyDocument.owner !== owner ||
        typeof keyDocument.publicKeyPem !== "string") {
      throw new Error(sitePath(url.href, root) + " is not a key of this site's issuer (" + sitePath(owner, root) + ")");
    }
    var profile = await fetchJson(new URL(owner));
    var listed = isObject(profile) ? [].concat(profile.publicKey === undefined ? [] : profile.publicKey) : [];
    if (!listed.some(function (k) { return k === creator || (isObject(k) && k.id === creator); })) {
      throw new Error("the issuer profile " + sitePath(owner, root) + " does not list the key " + sitePath(creator, root) +
        " (a retired key, or not the issuer's)");
    }
    var pem = keyDocument.publicKeyPem.match(/^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+\/=\s]+)-----END PUBLIC KEY-----\s*$/);
    var cryptoKey;
    try {
      if (!pem) { throw new Error("not a PEM public key"); }
      var der = Uint8Array.from(atob(pem[1].replace(/\s+/g, "")), function (c) { return c.charCodeAt(0); });
      cryptoKey = await crypto.subtle.importKey("spki", der, {name: "RSASSA-PKCS1-v1_5", hash: "SHA-256"}, false,
        ["verify"]);
    } catch (error) {
      throw new Error(sitePath(url.href, root) + " is not an RSA public key");
    }
    return {cryptoKey: cryptoKey, url: url.href, owner: owner};
  }

  /** What an OB 2.0 assertion and the OB 3.0 credential (the VC-JWT's payload) name differently:
   * "earner", "issue date", "expiry date" or "badge"; null when they agree. */
  function ob2Mismatch(assertion, credential) {
    var recipient = isObject(assertion.recipient) ? assertion.recipient : {};
    var subject = isObject(credential.credentialSubject) ? credential.credentialSubject : {};
    var identities = Array.isArray(subject.identifier) ? subject.identifier : [subject.identifier];
    var sameEarner = identities.some(function (i) {
      return isObject(i) && i.identityHash === recipient.identity && i.salt === recipient.salt &&
        typeof i.identityHash === "string";
    });
    if (!sameEarner) { return "earner"; }
    if (seconds(assertion.issuedOn) !== credential.nbf) { return "issue date"; }
    if ((assertion.expires === undefined ? undefined : seconds(assertion.expires)) !== credential.exp) {
      return "expiry date";
    }
    var achievement = isObject(subject.achievement) ? subject.achievement : {};
    var folder = typeof achievement.id === "string" ? achievement.id.slice(0, achievement.id.lastIndexOf("/") + 1) : null;
    if (folder === null || assertion.badge !== folder + "badge.json") { return "badge"; }
    if ((assertion.narrative || null) !== (subject.narrative || null)) { return "narrative"; }
    var theirs = Array.isArray(assertion.evidence) ? assertion.evidence : assertion.evidence === undefined ? [] : null;
    var ours = Array.isArray(credential.evidence) ? credential.evidence : [];
    if (theirs === null || theirs.length !== ours.length || theirs.some(function (item, i) {
      return !isObject(item) || ["id", "narrative", "name", "description"].some(function (key) {
        return (item[key] === undefined ? null : item[key]) !== (ours[i][key] === undefined ? null : ours[i][key]);
      });
    })) { return "evidence"; }
    return null;
  }

  /** Where a hosted assertion differs from what badgekiln publishes, whatever it says of the award
   * (its own id, HostedBadge, a boolean revoked, no member a 2.0 assertion of ours does not have),
   * or null: what can be checked of it without the signed one (a review). */
  function hostedShape(hosted, hostedUrl) {
    if (hosted.id !== hostedUrl.href) { return "id"; }
    var shape = difference({type: "HostedBadge"}, hosted.verification, "verification");
    if (shape !== null) { return shape; }
    if (hosted.revoked !== undefined && typeof hosted.revoked !== "boolean") { return "revoked"; }
    return Object.keys(hosted).find(function (key) { return !OB2_MEMBERS.has(key); }) || null;
  }

  // The members of an Open Badges 2.0 assertion as formats/ob2.py writes it (hosted).
  var OB2_MEMBERS = new Set(["@context", "badge", "evidence", "expires", "id", "image", "issuedOn", "narrative",
    "recipient", "revocationReason", "revoked", "type", "verification"]);

  function upper(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

  // --- Content -----------------------------------------------------------------------------

  /** Where the VC-JWT's credential and credential.json differ, or null. The payload carries the
   * Data Integrity proof (OB 3.0 section 8.2); a token without one is compared without it. */
  function contentDifference(payload, credential) {
    if (!isObject(credential)) { return "the top level"; }
    var signed = {}, hosted = {}, withProof = Object.prototype.hasOwnProperty.call(payload, "proof");
    Object.keys(payload).forEach(function (k) { if (JWT_CLAIMS.indexOf(k) < 0) { put(signed, k, payload[k]); } });
    Object.keys(credential).forEach(function (k) { if (k !== "proof" || withProof) { put(hosted, k, credential[k]); } });
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
    // Each date as the page says it and as the page shows it (a visual audit: the shown text was not compared).
    var issued = document.querySelector(".certificate .facts time:not(.expiry)");
    if (issued && !showsDay(issued, issued.getAttribute("datetime"), String(payload.validFrom).slice(0, 10))) {
      return "it was issued on " + String(payload.validFrom).slice(0, 10);
    }
    var expires = document.querySelector(".certificate .expiry[data-expires]");
    var validUntil = typeof payload.validUntil === "string" ? payload.validUntil.slice(0, 10) : null;
    if (document.querySelector(".certificate .facts") &&
        (expires ? !showsDay(expires, expires.getAttribute("data-expires"), validUntil) : validUntil !== null)) {
      return validUntil ? "it expires on " + validUntil : "it does not expire";
    }
    return null;
  }

  /** Whether a <time> element stands for the ISO day ``day``: its machine-readable ``said`` is it,
   * and its text, when written as the build writes dates (1 March 2026), is that day. (A site's own
   * template may write dates its own way, in its language: such a text is not compared.) */
  function showsDay(element, said, day) {
    if (said !== day || !/^\d{4}-\d{2}-\d{2}$/.test(String(day))) { return false; }
    var text = element.textContent.trim();
    var builtWay = new RegExp("^\\d{1,2} (" + MONTHS.join("|") + ") \\d{4}$");
    return !builtWay.test(text) || text === longDate(Date.parse(day + "T00:00:00Z") / 1000);
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

  /** The reason this page gives for the award's suspension or revocation (the panel's
   *  data-suspended-reason, data-revoked-reason): the status list says only that the bit is set. */
  function statusReason(kind) {
    var panel = document.getElementById("verify");
    var reason = panel ? panel.getAttribute(kind === "suspended" ? "data-suspended-reason" : "data-revoked-reason") : null;
    return typeof reason === "string" ? reason : "";
  }

  function seconds(stamp) {
    var t = typeof stamp === "string" ? Date.parse(stamp) : NaN;
    return isNaN(t) ? NaN : Math.floor(t / 1000);
  }

  // --- Helpers ----------------------------------------------------------------------------

  /** This site's DID document: did:web:host → /.well-known/did.json, did:web:host:path → /path/did.json. */
  function siteDidUrl(root) {
    return new URL(root.pathname === "/" ? ".well-known/did.json" : "did.json", root);
  }

  /** An Error saying ``url`` could not be downloaded, marked so (error.unavailable: the address). */
  function unavailable(url, why) {
    var error = new Error("could not download " + url.href + (why ? " (" + why + ")" : ""));
    error.unavailable = url.href;
    return error;
  }

  async function fetchText(url, fresh) {
    if (url.origin !== location.origin) { throw new Error(url.href + " is not on this site"); }
    var response;
    try {
      response = await fetch(url.href, {cache: fresh ? "no-store" : "no-cache", credentials: "omit",
        redirect: "follow"});
    } catch (error) {
      throw unavailable(url);
    }
    if (!response.ok) { throw unavailable(url, "HTTP " + response.status); }
    if (new URL(response.url || url.href).origin !== location.origin) {
      throw new Error(url.href + " redirected to another site");
    }
    return response.text();
  }

  /** The text of a JSON file of this site; a web page in its place (a host's page for a missing
   * file, sent with status 200) is a file not there, never a file that says something else. */
  async function fetchJsonText(url, fresh) {
    var text = await fetchText(url, fresh);
    if (/^\s*</.test(text)) { throw unavailable(url, "the host answered with a web page, not the file"); }
    return text;
  }

  async function fetchJson(url, fresh) {
    var text = await fetchJsonText(url, fresh);
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

  /** The bytes of a multibase base58btc string ('z' prefix, Bitcoin alphabet). */
  function multibase58(text) {
    if (typeof text !== "string" || text.charAt(0) !== "z" || text.length < 2 || text.length > 200) {
      throw new Error("not multibase base58btc");
    }
    var bytes = [];
    for (var i = 1; i < text.length; i++) {
      var carry = BASE58.indexOf(text.charAt(i));
      if (carry < 0) { throw new Error("not base58btc"); }
      for (var j = 0; j < bytes.length; j++) {
        carry += bytes[j] * 58;
        bytes[j] = carry & 0xff;
        carry >>= 8;
      }
      while (carry > 0) { bytes.push(carry & 0xff); carry >>= 8; }
    }
    for (var k = 1; k < text.length && text.charAt(k) === "1"; k++) { bytes.push(0); }
    return new Uint8Array(bytes.reverse());
  }

  /** A URL on this site as a path from its root (keys/jwks.json); other URLs in full. */
  function sitePath(url, root) {
    var href = String(url);
    return href.startsWith(root.href) && href.length > root.href.length ? href.slice(root.href.length) : href;
  }

  /** ``name`` marked for writeText() to put in a <bdi>: an earner's name, in any script, is shown
   * in its own direction, and an Arabic or Hebrew one does not turn the English round it. */
  function isolated(name) { return "\u2068" + name + "\u2069"; }

  /** ``text`` written into ``element`` as text, each isolated() part in a <bdi> of its own. (A name
   * cannot hold the marks: the build refuses bidirectional controls in names.) */
  function writeText(element, text) {
    element.textContent = "";
    String(text).split(/\u2068([^\u2068\u2069]*)\u2069/).forEach(function (part, i) {
      if (i % 2) {
        var bdi = document.createElement("bdi");
        bdi.textContent = part;
        element.append(bdi);
      } else if (part) {
        element.append(part);
      }
    });
  }

  function utf8(bytes) { return new TextDecoder("utf-8", {fatal: true}).decode(bytes); }

  function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }

  /** "a", "a and b", "a, b and c". */
  function sentence(items) {
    return items.length < 2 ? items.join("") : items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
  }

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
