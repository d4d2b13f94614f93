// The only script: forms marked data-once ignore a second click while the
// first submission is on its way (the server refuses duplicates as well).
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
  });
});
