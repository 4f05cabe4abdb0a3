// On a phone the project's pages are one line that scrolls sideways (studio.css): bring the page the person is
// on into view, so the strip shows where they are rather than always its first links.
(function () {
  "use strict";
  function reveal() {
    document.querySelectorAll(".project-nav").forEach(function (nav) {
      var current = nav.querySelector("[aria-current=page]");
      if (!current || nav.scrollWidth <= nav.clientWidth) return;
      nav.scrollLeft = Math.max(0, current.offsetLeft - nav.offsetLeft - nav.clientWidth / 3);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", reveal);
  else reveal();
})();
