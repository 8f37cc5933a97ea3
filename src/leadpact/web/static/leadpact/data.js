// The Data pages: follow an import's progress, confirm what cannot be undone, say a form is busy.
"use strict";
(() => {
  const job = document.querySelector("[data-progress]");
  if (job) {
    const url = job.getAttribute("data-progress");
    const show = (name, value) => {
      const el = job.querySelector(`[data-field="${name}"]`);
      if (el) el.textContent = value;
    };
    const tick = async () => {
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        const number = new Intl.NumberFormat(document.documentElement.lang || undefined);
        show("rows_read", number.format(data.rows_read));
        show("rows_imported", number.format(data.rows_imported));
        show("problems", number.format(data.problems));
        show("leads_added", number.format(data.leads_added));
        show("events_added", number.format(data.events_added));
        const bar = job.querySelector("progress");
        if (bar && data.percent !== null) {
          bar.value = data.percent;
          show("percent", `${data.percent}%`);
        }
        if (data.done) {
          window.location.reload();
          return;
        }
      } catch (error) {
        // the next tick tries again
      }
      window.setTimeout(tick, 1500);
    };
    window.setTimeout(tick, 1000);
  }
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    const button = event.submitter;
    if (button instanceof HTMLButtonElement && button.hasAttribute("data-busy")) {
      button.textContent = button.getAttribute("data-busy");
      window.setTimeout(() => { button.disabled = true; }, 0);
    }
  });
})();
