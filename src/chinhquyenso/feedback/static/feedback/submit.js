// Fills the coordinates from the phone's location, and shows only the chosen category's extra fields.
(function () {
  var button = document.getElementById("lay-vi-tri"), status = document.getElementById("vi-tri-trang-thai");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "Đang lấy vị trí…";
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById("latitude").value = p.coords.latitude.toFixed(6);
        document.getElementById("longitude").value = p.coords.longitude.toFixed(6);
        status.textContent = "Đã điền vị trí hiện tại (sai số khoảng " + Math.round(p.coords.accuracy) + " m).";
      }, function () {
        status.textContent = "Không lấy được vị trí. Hãy chọn xã, phường hoặc ghi địa chỉ.";
      }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 60000});
    });
  }
  var groups = document.querySelectorAll("fieldset.attributes");
  function show() {
    var chosen = document.querySelector("input[name=category_code]:checked");
    groups.forEach(function (g) { g.hidden = !chosen || g.dataset.category !== chosen.value; });
  }
  document.querySelectorAll("input[name=category_code]").forEach(function (r) { r.addEventListener("change", show); });
  show();
})();
