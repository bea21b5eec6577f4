// Certificate page: a "Print" button (the page prints from the browser's menu without it).
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
