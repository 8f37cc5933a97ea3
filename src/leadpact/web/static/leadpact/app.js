// leadpact's only script: small conveniences on top of pages that work without it.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("change", (event) => {
  // a select marked data-autosubmit sends its form as soon as it changes (the language switch)
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});
