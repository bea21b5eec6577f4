// Live progress of a matching run: poll its progress URL, reload when it has finished.
(() => {
  const box = document.querySelector("[data-run-progress]");
  if (!box) return;
  const bar = box.querySelector("progress");
  const phase = box.querySelector("[data-phase]");
  const tick = async () => {
    try {
      const response = await fetch(box.dataset.runProgress, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        bar.value = data.percent || 0;
        phase.textContent = data.phase || "";
        if (data.status !== "requested" && data.status !== "running") {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // the network blinked: try again at the next tick
    }
    window.setTimeout(tick, 1500);
  };
  window.setTimeout(tick, 1500);
})();
