// Move the focus to the first error summary on the page (templates/includes/error_summary.html),
// so a screen reader reads it and Tab goes from it to the fields it links to. A link in the
// summary moves the focus to its field, not only the scroll position.
(function () {
  "use strict";
  function start() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary || summary.dataset.focused) {
      return;
    }
    summary.dataset.focused = "1";
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({block: "center"});
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
