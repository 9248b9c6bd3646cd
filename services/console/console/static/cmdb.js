// Scan-by-tag on an audit page: the phone camera reads the tag's code where the browser has BarcodeDetector;
// elsewhere the button stays hidden and the tag is typed (or sent by a keyboard-wedge scanner). Nothing from a CDN.
(function () {
  "use strict";
  var button = document.querySelector("[data-camera]");
  var input = document.getElementById("scan-tag");
  var video = document.getElementById("scan-video");
  var note = document.getElementById("scan-camera-note");
  if (!button || !input || !video || !note) { return; }
  var canScan = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!canScan) { note.textContent = note.dataset.msgNone || ""; return; }
  button.hidden = false;
  var stream = null;
  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    video.hidden = true;
  }
  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector;
    try {
      detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128", "code_39", "ean_13", "data_matrix"] });
    } catch (e) {
      note.textContent = note.dataset.msgNone || "";
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      note.textContent = note.dataset.msgLooking || "";
      return video.play().then(function look() {
        if (!stream) { return; }
        detector.detect(video).then(function (codes) {
          if (codes.length && codes[0].rawValue) {
            input.value = codes[0].rawValue.trim();
            note.textContent = "";
            stop();
            input.focus();
          } else {
            window.setTimeout(look, 250);
          }
        }, function () { window.setTimeout(look, 500); });
      });
    }).catch(function () {
      stop();
      note.textContent = note.dataset.msgNone || "";
    });
  });
  window.addEventListener("pagehide", stop);
})();
