// The agreement editor's live check: a definition's rule tried on the organisation's recent leads as you
// type. Without this script the "Check against our leads" button posts the form and the page answers.
"use strict";
(() => {
  const form = document.querySelector("form.editor[data-check-url]");
  if (!form) return;
  const url = form.getAttribute("data-check-url");
  const timers = new WeakMap();

  async function check(fieldset) {
    const rule = fieldset.querySelector("textarea[data-rule]");
    const output = fieldset.querySelector(".live-check output");
    if (!rule || !output) return;
    if (!rule.value.trim()) { output.textContent = ""; return; }
    output.classList.add("busy");
    try {
      const response = await fetch(`${url}?rule=${encodeURIComponent(rule.value)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      const data = await response.json();
      output.textContent = data.ok ? data.summary : data.error;
      if (data.ok && data.sample && data.clauses.length > 1) {
        const list = document.createElement("ul");
        list.className = "clauses";
        for (const item of data.clauses) {
          const li = document.createElement("li");
          const code = document.createElement("code");
          code.textContent = item.clause;
          li.append(code, ` · ${item.words}`);
          list.append(li);
        }
        output.append(list);
      }
      output.classList.toggle("error", !data.ok);
    } catch (error) {
      output.textContent = String(error);
    } finally {
      output.classList.remove("busy");
    }
  }

  form.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-check]") : null;
    if (!button) return;
    event.preventDefault();
    check(button.closest("fieldset"));
  });
  form.addEventListener("input", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || !target.hasAttribute("data-rule")) return;
    const fieldset = target.closest("fieldset");
    clearTimeout(timers.get(fieldset));
    timers.set(fieldset, setTimeout(() => check(fieldset), 500));
  });
})();
