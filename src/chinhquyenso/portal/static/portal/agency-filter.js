// Type-to-filter for the receiving-agency list (the page works without it: the
// "Lọc danh sách" button sends the same filter to the server).
(function () {
  var query = document.getElementById("agency_query");
  var select = document.getElementById("agency_code");
  if (!query || !select) return;
  var form = select.form;
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  // Every option, from the full list the server would give without a filter.
  var groups = Array.prototype.map.call(select.querySelectorAll("optgroup"), function (group) {
    return { node: group, options: Array.prototype.slice.call(group.children) };
  });
  var status = document.createElement("p");
  status.className = "help";
  status.setAttribute("role", "status");
  query.parentNode.parentNode.insertBefore(status, query.parentNode.nextSibling);
  function apply() {
    var words = fold(query.value).split(/\s+/).filter(Boolean);
    function matches(option) {
      var name = fold(option.textContent);
      return words.every(function (w) { return name.indexOf(w) >= 0; });
    }
    // The whole list back first, so that choosing below unchooses the one before.
    groups.forEach(function (group) { group.node.replaceChildren.apply(group.node, group.options); });
    // One match is the choice; otherwise the current choice stays listed beside the matches.
    var found = [];
    groups.forEach(function (group) { found = found.concat(group.options.filter(matches)); });
    if (found.length === 1 && words.length) found[0].selected = true;
    groups.forEach(function (group) {
      var kept = group.options.filter(function (option) { return option.selected || matches(option); });
      group.node.replaceChildren.apply(group.node, kept);
      group.node.hidden = kept.length === 0;
    });
    status.textContent = words.length ? found.length + " cơ quan khớp." : "";
  }
  query.addEventListener("input", apply);
  // Enter in the search box filters here; Enter elsewhere saves (not the filter button).
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    event.preventDefault();
    if (event.target === query) { apply(); return; }
    var save = form.querySelector("button[name=save]");
    if (save) save.click();
  });
})();
