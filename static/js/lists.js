// Register lists (templates/partials/list.html): "select every row of this page" and the
// count of selected rows on the bulk action's button.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-bulk]")) {
    const boxes = () => form.querySelectorAll("tbody input[type=checkbox][name=pk]");
    const all = form.querySelector("input[data-select-all]");
    const counter = form.querySelector("[data-selected-count]");
    const update = () => {
      const n = [...boxes()].filter((b) => b.checked).length;
      if (counter) counter.textContent = String(n);
    };
    if (all) all.addEventListener("change", () => { for (const b of boxes()) b.checked = all.checked; update(); });
    form.addEventListener("change", update);
    update();
  }
});

// A bulk action's button asks before it changes the ticked rows (portal.js asks for whole forms).
document.addEventListener("click", (event) => {
  const button = event.target.closest("form[data-bulk] button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
