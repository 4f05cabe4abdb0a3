// Record a line in the browser: the panel's "Record in the browser" button records the microphone
// (MediaRecorder) and posts the recording like the upload form beside it, then swaps the dialogue
// section the answer brings. Without MediaRecorder (or the microphone refused) the button stays hidden
// or says so, and the upload form does the same job.
(function () {
  "use strict";
  var recorder = null;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function reveal(root) {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    (root || document).querySelectorAll("[data-record][hidden]").forEach(function (button) { button.hidden = false; });
  }

  function send(button, blob) {
    var body = new FormData();
    body.append("file", blob, "recording");
    fetch(button.dataset.record, {method: "POST", body: body, credentials: "same-origin",
                                  headers: {"HX-Request": "true", "X-CSRFToken": csrf()}})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var target = document.querySelector(button.dataset.target);
        if (target && window.htmx) { window.htmx.swap(target, html, {swapStyle: "outerHTML"}); }
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-record]");
    if (!button) return;
    if (recorder && recorder.button === button) { recorder.media.stop(); return; }
    if (recorder) return;  // one recording at a time
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      var media = new MediaRecorder(stream), parts = [], label = button.textContent;
      recorder = {media: media, button: button};
      media.addEventListener("dataavailable", function (e) { if (e.data.size) parts.push(e.data); });
      media.addEventListener("stop", function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        button.textContent = label;
        button.classList.remove("recording");
        recorder = null;
        send(button, new Blob(parts, {type: media.mimeType}));
      });
      media.start();
      button.textContent = button.dataset.stopLabel;
      button.classList.add("recording");
    }).catch(function () { button.textContent = button.dataset.denied; button.disabled = true; });
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(); });
  document.addEventListener("htmx:afterSettle", function (event) { reveal(event.target); });
})();
