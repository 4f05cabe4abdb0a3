// A field marked data-select-on-click selects its whole text on click (a link to copy).
// A static file, not onclick="": the Content-Security-Policy refuses inline handlers.
document.addEventListener("click", function (event) {
  var field = event.target.closest && event.target.closest("[data-select-on-click]");
  if (field) field.select();
});
