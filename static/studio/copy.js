// A "Copy" button beside a field (data-copy="#field"): puts the field's text on the clipboard and says so
// (data-copied) for a moment. Without the clipboard API (a page not served over HTTPS), the text is selected
// for the person to copy themselves.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.focus();
    field.select();
    if (!navigator.clipboard || !window.isSecureContext) return;
    navigator.clipboard.writeText(field.value).then(function () {
      var label = button.textContent;
      button.textContent = button.dataset.copied || label;
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
