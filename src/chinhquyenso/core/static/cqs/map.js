// The platform's one map (core/maps.py, templates cqs/_map.html): Leaflet, configured by the
// data attributes of each .cqs-map element. Without JavaScript the map stays hidden and the page
// says the same in text (a table of the points; the address and commune fields).
//
//   data-tiles, data-attribution, data-max-zoom   the base layer; no tiles when data-tiles is ""
//                                                 (offline: the places below are the base layer)
//   data-bounds="s,n,w,e" | data-center="lat,lon" + data-zoom
//   data-points, data-base, data-outlines         ids of <script type="application/json"> GeoJSON:
//                                                 the pins; the communes' reference points; outlines
//   data-cluster="1"                              group nearby pins (leaflet.markercluster)
//   data-pick-lat, data-pick-lon                  ids of the fields a dropped pin writes (pin picking)
//   data-pick-area, data-pick-max-km              the commune <select> the nearest place preselects
//   data-locate                                   id of the "use my location" button
//   data-status                                   id of the element that says what happened
(function () {
  "use strict";
  var L = window.L;
  if (!L) { return; }
  var EARTH_KM = 6371.0088, NUDGE_PX = 12, PICK_ZOOM = 15;
  var ARROWS = {ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0]};

  function json(id) {
    var node = id && document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function km(a, b) {
    var rad = Math.PI / 180, dLat = (b.lat - a.lat) * rad, dLon = (b.lng - a.lng) * rad;
    var h = Math.pow(Math.sin(dLat / 2), 2) +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.pow(Math.sin(dLon / 2), 2);
    return 2 * EARTH_KM * Math.asin(Math.sqrt(h));
  }

  function numbers(text) {
    var parts = String(text || "").split(",").map(function (x) { return parseFloat(x); });
    return parts.every(isFinite) ? parts : null;
  }

  function latLngOf(feature) {
    var c = feature && feature.geometry && feature.geometry.coordinates;
    return c && feature.geometry.type === "Point" ? L.latLng(c[1], c[0]) : null;
  }

  // A pin: at least 28×28 px (a finger's target), its name in text for screen readers, its kind
  // (status, density class…) a CSS modifier giving colour and shape.
  function pinIcon(kind, label) {
    var shape = make("span", "cqs-pin-shape");
    if (label) { shape.appendChild(make("span", "cqs-map-vh", label)); }
    return L.divIcon({
      className: "cqs-pin cqs-pin--" + (kind || "default"),
      html: shape, iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -14], tooltipAnchor: [14, 0]
    });
  }

  function clusterIcon(cluster) {
    var count = cluster.getChildCount();
    var size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    var body = make("span", "cqs-cluster-count", String(count));
    body.appendChild(make("span", "cqs-map-vh", " điểm; nhấn để phóng to"));
    return L.divIcon({className: "cqs-cluster cqs-cluster--" + size, html: body, iconSize: [40, 40]});
  }

  function popupFor(properties) {
    var box = make("div", "cqs-map-popup");
    if (properties.label) { box.appendChild(make("strong", "", properties.label)); }
    if (properties.text) { box.appendChild(make("p", "", properties.text)); }
    if (properties.url) {
      var link = make("a", "", properties.link || "Xem chi tiết");
      link.href = properties.url;
      var p = make("p");
      p.appendChild(link);
      box.appendChild(p);
    }
    return box;
  }

  function translateControls(map) {
    map.on("popupopen", function (e) {
      var close = e.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", "Đóng"); close.title = "Đóng"; }
      var link = e.popup.getElement().querySelector(".cqs-map-popup a");
      if (link && map._cqsKeyboard) { link.focus(); }
    });
  }

  // Offline base layer (no tiles) and, with tiles, the places' names as tooltips only.
  function drawBase(map, base, outlines, offline) {
    var layers = [];
    if (outlines && outlines.features && outlines.features.length) {
      layers.push(L.geoJSON(outlines, {
        interactive: false,
        style: function (f) {
          return {className: "cqs-outline" + (f.properties && f.properties.kind ? " cqs-outline--" + f.properties.kind : "")};
        }
      }).addTo(map));
    }
    if (offline && base && base.features) {
      base.features.forEach(function (f) {
        var at = latLngOf(f);
        if (!at) { return; }
        var label = make("span", "cqs-place-name", (f.properties && f.properties.name) || "");
        var dot = make("span", "cqs-place-dot");
        var html = make("span");
        html.appendChild(dot);
        html.appendChild(label);
        layers.push(L.marker(at, {
          icon: L.divIcon({className: "cqs-place", html: html, iconSize: [8, 8], iconAnchor: [4, 4]}),
          interactive: false, keyboard: false
        }).addTo(map));
      });
    }
    return layers;
  }

  function fit(map, element, points) {
    var bounds = numbers(element.dataset.bounds), center = numbers(element.dataset.center);
    if (center && center.length === 2) {
      map.setView(center, parseInt(element.dataset.zoom, 10) || 15);
    } else if (bounds && bounds.length === 4 && (bounds[0] || bounds[1])) {
      map.fitBounds([[bounds[0], bounds[2]], [bounds[1], bounds[3]]]);
    } else if (points.length) {
      map.fitBounds(L.latLngBounds(points), {maxZoom: 15, padding: [20, 20]});
    } else {
      map.setView([16, 106], 5);  // Việt Nam
    }
  }

  function drawPoints(map, element, collection) {
    var features = (collection && collection.features) || [];
    var group = element.dataset.cluster === "1" && L.markerClusterGroup ? L.markerClusterGroup({
      iconCreateFunction: clusterIcon, showCoverageOnHover: false, maxClusterRadius: 50
    }) : L.featureGroup();
    var latLngs = [];
    features.forEach(function (f) {
      var at = latLngOf(f), props = f.properties || {};
      if (!at) { return; }
      latLngs.push(at);
      var marker = L.marker(at, {icon: pinIcon(props.kind, props.label), title: props.label || "", keyboard: true, riseOnHover: true});
      if (props.label || props.url) { marker.bindPopup(popupFor(props)); }
      group.addLayer(marker);
    });
    if (group.on && L.MarkerClusterGroup && group instanceof L.MarkerClusterGroup) {
      // A cluster chosen with the keyboard opens like one clicked: zoom in, or fan out at the last zoom.
      group.on("clusterkeypress", function (e) {
        if (e.originalEvent && e.originalEvent.key === "Enter") { e.layer.zoomToBounds(); }
      });
    }
    group.addTo(map);
    return latLngs;
  }

  // Pin picking: a click or tap drops the pin, dragging moves it; the pin moves with the arrow
  // keys when focused; Enter on the map drops it at the centre. The fields get the point; the
  // nearest place (data-base, within data-pick-max-km) is named and preselected in the commune
  // select unless the person chose one themselves.
  function picker(map, element, places) {
    var latField = document.getElementById(element.dataset.pickLat);
    var lonField = document.getElementById(element.dataset.pickLon);
    if (!latField || !lonField) { return; }
    var area = document.getElementById(element.dataset.pickArea || "");
    var status = document.getElementById(element.dataset.status || "");
    var clear = document.getElementById(element.dataset.clear || "");
    var maxKm = parseFloat(element.dataset.pickMaxKm) || 15;
    var chosenByHand = !!(area && area.value);
    var marker = null, last = null, box = numbers(element.dataset.bounds);
    var inside = box && box.length === 4 ? L.latLngBounds([box[0], box[2]], [box[1], box[3]]) : null;
    if (area) { area.addEventListener("change", function () { chosenByHand = !!area.value; }); }

    function say(text) { if (status) { status.textContent = text; } }

    function nearest(at) {
      var best = null, bestKm = maxKm;
      ((places && places.features) || []).forEach(function (f) {
        var p = latLngOf(f), d = p && km(at, p);
        if (p && d <= bestKm && f.properties && f.properties.code) { best = f.properties; bestKm = d; }
      });
      return best;
    }

    function write(at, how) {
      latField.value = at.lat.toFixed(6);
      lonField.value = at.lng.toFixed(6);
      var place = nearest(at), text = how + " Vị trí: " + latField.value + ", " + lonField.value + ".";
      if (place) {
        text += " Gần " + (place.name || place.code) + ".";
        if (area && !chosenByHand && area.querySelector('option[value="' + CSS.escape(place.code) + '"]')) {
          area.value = place.code;
        }
      }
      say(text);
      if (clear) { clear.hidden = false; }
    }

    // A point outside the province (data-bounds) is refused here as the server would refuse it.
    function accepted(at) {
      if (!inside || inside.contains(at)) { return true; }
      say("Điểm này nằm ngoài địa bàn tỉnh; hãy chọn điểm khác.");
      if (marker && last) { marker.setLatLng(last); }
      return false;
    }

    function place(at, how) {
      if (!accepted(at)) { return; }
      last = at;
      if (!marker) {
        marker = L.marker(at, {
          icon: pinIcon("pick", "Ghim nơi xảy ra: kéo hoặc dùng phím mũi tên để chỉnh"),
          draggable: true, keyboard: true, autoPan: true
        }).addTo(map);
        marker.on("dragend", function () {
          if (accepted(marker.getLatLng())) { last = marker.getLatLng(); write(last, "Đã chuyển ghim."); }
        });
        marker.getElement().addEventListener("keydown", function (e) {
          var step = ARROWS[e.key];
          if (!step) { return; }
          e.preventDefault();
          e.stopPropagation();  // the map would pan instead
          var p = map.latLngToContainerPoint(marker.getLatLng()).add(L.point(step[0] * NUDGE_PX, step[1] * NUDGE_PX));
          place(map.containerPointToLatLng(p), "Đã chuyển ghim.");
        });
      } else {
        marker.setLatLng(at);
      }
      write(at, how);
    }

    var lat = parseFloat(latField.value), lon = parseFloat(lonField.value);
    if (isFinite(lat) && isFinite(lon)) {
      place(L.latLng(lat, lon), "Ghim đã đặt.");
      map.setView([lat, lon], Math.max(map.getZoom(), PICK_ZOOM));
    }
    // The first tap, on a map of the whole province, is rough (a pixel is hundreds of metres):
    // the map zooms in on the pin, to be dragged to the exact place.
    map.on("click", function (e) {
      var first = !marker;
      place(e.latlng, "Đã đặt ghim.");
      if (first && marker && map.getZoom() < PICK_ZOOM) { map.setView(e.latlng, PICK_ZOOM); }
    });
    map.getContainer().addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target === map.getContainer()) {
        e.preventDefault();
        place(map.getCenter(), "Đã đặt ghim ở giữa bản đồ.");
      }
    });
    if (clear) {
      clear.hidden = !marker;
      clear.addEventListener("click", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        latField.value = lonField.value = "";
        clear.hidden = true;
        say("Đã bỏ ghim. Hãy chọn xã, phường hoặc ghi địa chỉ.");
      });
    }
    var locate = document.getElementById(element.dataset.locate || "");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        say("Đang lấy vị trí…");
        navigator.geolocation.getCurrentPosition(function (p) {
          var at = L.latLng(p.coords.latitude, p.coords.longitude);
          map.setView(at, Math.max(map.getZoom(), 16));
          place(at, "Đã đặt ghim ở vị trí của bạn (sai số khoảng " + Math.round(p.coords.accuracy) + " m).");
        }, function () {
          say("Không lấy được vị trí. Hãy chạm vào bản đồ, chọn xã, phường hoặc ghi địa chỉ.");
        }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 60000});
      });
    }
  }

  function draw(element) {
    var tiles = element.dataset.tiles || "", offline = !tiles;
    var map = L.map(element, {
      zoomControl: false, attributionControl: false, keyboard: true,
      maxZoom: parseInt(element.dataset.maxZoom, 10) || 19
    });
    L.control.zoom({zoomInTitle: "Phóng to", zoomOutTitle: "Thu nhỏ"}).addTo(map);
    L.control.attribution({prefix: '<a href="https://leafletjs.com">Leaflet</a>'}).addTo(map);
    if (offline) {
      element.classList.add("cqs-map--offline");
      map.attributionControl.addAttribution("Bản đồ nền ngoại tuyến: điểm trung tâm xã, phường");
    } else {
      L.tileLayer(tiles, {
        attribution: element.dataset.attribution || "",
        maxZoom: parseInt(element.dataset.maxZoom, 10) || 19
      }).addTo(map);
    }
    map.getContainer().addEventListener("keydown", function () { map._cqsKeyboard = true; });
    map.getContainer().addEventListener("mousedown", function () { map._cqsKeyboard = false; });
    translateControls(map);
    var base = json(element.dataset.base), outlines = json(element.dataset.outlines);
    var points = json(element.dataset.points);
    var latLngs = ((points && points.features) || []).map(latLngOf).filter(Boolean);
    fit(map, element, latLngs);
    drawBase(map, base, outlines, offline);
    drawPoints(map, element, points);
    // Place names only when close enough to read them.
    function names() { element.classList.toggle("cqs-map--far", map.getZoom() < 11); }
    map.on("zoomend", names);
    names();
    if (element.dataset.pickLat) { picker(map, element, base); }
    element._cqsMap = map;
    return map;
  }

  document.querySelectorAll(".cqs-map").forEach(function (element) {
    var wrap = element.closest(".cqs-map-wrap");
    if (wrap) { wrap.hidden = false; }
    draw(element);
  });
})();
