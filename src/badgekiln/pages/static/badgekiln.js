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
})();
