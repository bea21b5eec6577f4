// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  const autosubmits = el instanceof HTMLSelectElement || el instanceof HTMLInputElement;
  if (autosubmits && el.dataset.autosubmit !== undefined && el.form) {
    el.form.submit();
  }
});
