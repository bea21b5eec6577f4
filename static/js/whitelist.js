// "Select all on this page" for the whitelist tables; the pages work without it.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.dataset.checkAll === undefined) return;
  const form = box.closest("form");
  if (!form) return;
  for (const item of form.querySelectorAll(`input[type=checkbox][name="${box.dataset.checkAll}"]`)) {
    item.checked = box.checked;
  }
});
