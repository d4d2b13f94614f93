// Shows only the chosen category's extra fields (the map, cqs/map.js, places the pin and fills the coordinates).
(function () {
  var groups = document.querySelectorAll("fieldset.attributes");
  function show() {
    var chosen = document.querySelector("input[name=category_code]:checked");
    groups.forEach(function (g) { g.hidden = !chosen || g.dataset.category !== chosen.value; });
  }
  document.querySelectorAll("input[name=category_code]").forEach(function (r) { r.addEventListener("change", show); });
  show();
})();
