// Import progress: while a file is queued or importing, ask the server every second how far
// it got and move the bar; reload the page when it has finished. Without this script the
// page's "Refresh" link does the same by hand.
(() => {
  const box = document.querySelector("[data-import-progress]");
  if (!box || box.dataset.running !== "1") return;
  const bar = box.querySelector("progress");
  const label = box.querySelector("[data-progress-label]");
  const running = new Set(["queued", "importing"]);

  async function poll() {
    try {
      const response = await fetch(box.dataset.url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const data = await response.json();
        if (bar) {
          bar.value = data.percent;
          bar.textContent = `${data.percent}%`;
          bar.setAttribute("aria-valuenow", String(data.percent));
        }
        if (label) label.textContent = data.label;
        if (!running.has(data.status)) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A failed poll is retried on the next tick.
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
