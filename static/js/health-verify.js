// Verification page: scan the QR code with the camera where the browser has a barcode
// detector (BarcodeDetector + getUserMedia); elsewhere the scanner stays hidden and the
// token or a photo of the QR code is used instead. The token is posted, never put in a URL.
(async () => {
  const scanner = document.querySelector("[data-scanner]");
  const form = document.getElementById("verify-form");
  if (!scanner || !form) return;
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return;
  } catch {
    return;
  }
  const start = scanner.querySelector("[data-scan-start]");
  const stop = scanner.querySelector("[data-scan-stop]");
  const video = scanner.querySelector("[data-scan-video]");
  const status = scanner.querySelector("[data-scan-status]");
  const textarea = form.querySelector("textarea[name=token]");
  let stream = null;

  const close = () => {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  };

  start.addEventListener("click", async () => {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch {
      status.textContent = scanner.dataset.msgDenied;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    start.hidden = true;
    stop.hidden = false;
    status.textContent = scanner.dataset.msgLooking;
    await video.play();
    const look = async () => {
      if (!stream) return;
      try {
        const codes = await detector.detect(video);
        const text = codes.find((code) => code.rawValue)?.rawValue;
        if (text) {
          close();
          textarea.value = text;
          status.textContent = "";
          form.requestSubmit();
          return;
        }
      } catch {
        // a frame that is not ready yet: try the next one
      }
      setTimeout(look, 250);
    };
    look();
  });
  stop.addEventListener("click", close);
  scanner.hidden = false;
})();
