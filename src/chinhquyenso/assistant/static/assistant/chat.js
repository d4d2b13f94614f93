// Progressive enhancement of the assistant's chat form (/tro-ly/): the form works without this
// script (it posts and the page reloads); with it, the answer is fetched and the list of turns
// replaced in place, the question box emptied and focused. No inline script (CSP).
(function () {
  "use strict";
  var form = document.querySelector("form[data-assistant]");
  var history = document.getElementById("tro-ly-lich-su");
  if (!form || !history || !window.fetch || !window.DOMParser) return;
  form.addEventListener("submit", function (event) {
    var box = form.querySelector("textarea[name=question]");
    if (!box || !box.value.trim()) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action || window.location.pathname, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("tro-ly-lich-su");
        var freshForm = page.getElementById("tro-ly-form");
        if (fresh) history.innerHTML = fresh.innerHTML;
        if (freshForm) form.innerHTML = freshForm.innerHTML;
        var last = history.lastElementChild;
        if (last && last.scrollIntoView) last.scrollIntoView();
        var again = form.querySelector("textarea[name=question]");
        if (again) again.focus();
      })
      .catch(function () { form.submit(); })
      .then(function () { if (button) button.disabled = false; });
  });
})();
