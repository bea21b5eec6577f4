// Boarding check at the door: scan the certificate's QR code with the phone's camera where the
// browser has a barcode detector (as on the verification page); elsewhere the scanner stays
// hidden and the officer types the certificate number or uploads a photo. The token is
// posted, never put in a URL. After each check the input is ready for the next worker.
(async () => {
  const form = document.getElementById("boarding-form");
  if (!form) return;
  const input = form.querySelector("input[name=certificate]");
  if (input && !document.querySelector("[data-testid=form-errors]")) input.focus();
  const scanner = form.querySelector("[data-scanner]");
  if (!scanner) return;
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
          input.value = text;
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
