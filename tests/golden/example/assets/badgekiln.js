/* badgekiln page enhancements. The page works without this script; it only adds:
   - the Print button,
   - the expiry status as of the day the page is viewed (the HTML says it as of the build day).
   The "Verify this badge" panel of award pages is verify.js.
   Everything it writes into the page goes in as text (textContent), never as HTML. */
(function () {
  "use strict";

  var printButton = document.querySelector(".print-button");
  if (printButton) {
    var printItem = printButton.closest("[hidden]");
    if (printItem) { printItem.hidden = false; }
    printButton.addEventListener("click", function () { window.print(); });
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
      // (as the title of a page built after the expiry reads: a tab or bookmark must not say valid)
      if (document.title.indexOf("Expired: ") !== 0) { document.title = "Expired: " + document.title; }
    }
  }

  // Portfolios: a badge whose expiry date has come since the page was built says so (the page
  // lists the badges valid on the build day; a site's daily rebuild can stop: a visual audit found
  // "currently valid" above a date long past).
  var lapsed = 0, viewed = new Date().toISOString().slice(0, 10);
  document.querySelectorAll(".portfolio-award[data-expires]").forEach(function (item) {
    if (item.getAttribute("data-expires") > viewed) { return; }
    lapsed += 1;
    item.classList.add("expired");
    var validity = item.querySelector(".validity");
    if (validity) { validity.textContent = "expired on"; }
  });
  var lead = document.querySelector(".portfolio-lead");
  if (lapsed && lead) {
    lead.textContent = "The badges listed here were valid when this page was made; " +
      (lapsed === 1 ? "one has" : lapsed + " have") + " expired since, as marked. Each links to its page, " +
      "where it can be verified.";
  }
})();

/* Award pages: the share row, "Is this badge yours?" and the expiry banner. Nothing here talks to
   a server: the share buttons only copy text or open the phone's own share sheet, and the email
   check hashes in the browser. Everything written into the page goes in as text. */
(function () {
  "use strict";

  // Viewed on or after the expiry date (the code above has marked the page expired): show the
  // banner the build writes into an expired award's page, which the build left hidden here.
  var expiredBanner = document.querySelector(".banner-expired[hidden]");
  if (expiredBanner && document.body.classList.contains("status-expired")) {
    expiredBanner.hidden = false;
  }

  var share = document.querySelector(".share");
  if (share) {
    share.querySelectorAll(".share-copy").forEach(function (button) {
      if (!navigator.clipboard) { return; }
      button.closest("[hidden]").hidden = false;
      // (said next to the button pressed: the embed code's own line is under its button)
      var statusLine = share.querySelector(button.closest(".embed") ? ".embed-status" : ".share-status");
      var say = function (text) { if (statusLine) { statusLine.textContent = text; } };
      button.addEventListener("click", function () {
        var from = button.getAttribute("data-copy-from");
        var text = from ? document.getElementById(from).value : button.getAttribute("data-copy");
        navigator.clipboard.writeText(text).then(function () {
          say(from ? "Embed code copied." : "Link copied.");
        }, function () {
          say("Could not copy; select the text and copy it yourself.");
        });
      });
    });
    var native = share.querySelector(".share-native");
    if (native && typeof navigator.share === "function") {  // phones and some desktop browsers
      native.closest("[hidden]").hidden = false;
      native.addEventListener("click", function () {
        navigator.share({
          title: native.getAttribute("data-title"),
          text: native.getAttribute("data-text"),
          url: native.getAttribute("data-url")
        }).catch(function () {});  // (dismissed by the user)
      });
    }
  }

  var ownership = document.querySelector(".ownership[data-salt][data-identity]");
  if (ownership && window.crypto && window.crypto.subtle && window.TextEncoder) {
    ownership.hidden = false;
    var input = ownership.querySelector("input");
    var result = ownership.querySelector(".ownership-result");
    // (No <form>: the pages have none, and the address must not be submitted anywhere.)
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); check(); }
    });
    ownership.querySelector(".ownership-check").addEventListener("click", check);
    function check() {
      // Normalised as the build normalises the earner's address: trimmed and lower-cased.
      var email = input.value.trim().toLowerCase();
      result.removeAttribute("data-match");
      if (!email) {
        result.textContent = "Type an email address first.";
        return;
      }
      if (email.indexOf("@") < 1 || email.indexOf("@") === email.length - 1) {  // (a name is not an address)
        result.textContent = "That is not an email address: type the address the badge would have been issued to.";
        return;
      }
      identityHash(email, ownership.getAttribute("data-salt")).then(function (hash) {
        var match = hash === ownership.getAttribute("data-identity");
        result.setAttribute("data-match", match ? "yes" : "no");
        result.textContent = match
          ? "Yes: this badge was issued to " + email + "."
          : "No: this badge was not issued to " + email + ". Check the spelling, or try another address you use.";
      });
    }
  }

  /** Open Badges identity hash: "sha256$" + hex(SHA-256(email + salt)). */
  function identityHash(email, salt) {
    var bytes = new TextEncoder().encode(email + salt);
    return window.crypto.subtle.digest("SHA-256", bytes).then(function (digest) {
      return "sha256$" + Array.from(new Uint8Array(digest)).map(function (b) {
        return b.toString(16).padStart(2, "0");
      }).join("");
    });
  }
})();
