// The field survey form, tolerant of a phone losing the network (pests, /can-bo/sau-benh/dieu-tra/moi/).
// - While it is filled, the form is kept in localStorage with its client id (a UUID made when the
//   form opened), so a reload or a closed browser loses nothing.
// - "Gửi phiếu" sends it with fetch (header X-CQS-Offline: 1, JSON answer). Without a network the
//   form waits in a queue on the phone; the queue is sent again when the phone is back online (the
//   "online" event), when the page opens again, or with "Gửi lại các phiếu đã lưu".
// - The server stores a form once per client id: a form sent twice gives back the first survey.
// - An answer that is not JSON (signed out, a refused form) falls back to the plain submission,
//   whose page says what to do; the form stays kept until the server has stored it.
// Without JavaScript the form is a plain POST with a client id made by the server.
(function () {
  "use strict";
  var form = document.getElementById("phieu-dieu-tra");
  if (!form || !window.fetch || !window.FormData || !window.JSON) return;
  var store;
  try { store = window.localStorage; store.setItem("cqs.test", "1"); store.removeItem("cqs.test"); } catch (e) { return; }
  var DRAFT = "cqs.pests.survey.draft";
  var QUEUE = "cqs.pests.survey.queue";
  var status = document.getElementById("trang-thai-gui");
  var queueBar = document.getElementById("hang-doi");
  var retry = document.getElementById("gui-lai");
  var fresh = document.getElementById("phieu-moi");
  var idField = form.elements.client_id;
  var busy = false;
  var restored = false;

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16), h = [], i;
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i++) h.push((b[i] + 256).toString(16).slice(1));
    h = h.join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function read(key, fallback) {
    try { return JSON.parse(store.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { store.setItem(key, JSON.stringify(value)); } catch (e) { say("Máy hết chỗ lưu: phiếu chưa được lưu trên máy."); }
  }
  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }
  function fields() {
    var out = [], i, el;
    for (i = 0; i < form.elements.length; i++) {
      el = form.elements[i];
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.disabled) continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
      out.push([el.name, el.value]);
    }
    return out;
  }
  function fill(pairs) {
    var i, el;
    for (i = 0; i < pairs.length; i++) {
      el = form.elements[pairs[i][0]];
      // The crop is the page's (its rows of organisms); the client id comes back apart.
      if (!el || el.type === "hidden") continue;
      el.value = pairs[i][1];
    }
  }
  function time(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + " " + two(d.getDate()) + "/" + two(d.getMonth() + 1);
  }
  function saveDraft() {
    write(DRAFT, { client_id: idField.value, fields: fields(), saved: Date.now(), action: form.action });
  }
  function queue() { return read(QUEUE, []); }
  function showQueue() {
    var n = queue().length;
    queueBar.hidden = n === 0 && !restored;
    retry.hidden = n === 0;
    retry.textContent = n ? "Gửi lại " + n + " phiếu đã lưu" : "Gửi lại các phiếu đã lưu";
  }
  function enqueue(entry) {
    var q = queue().filter(function (e) { return e.client_id !== entry.client_id; });
    q.push(entry);
    write(QUEUE, q);
    showQueue();
  }
  function dequeue(clientId) {
    write(QUEUE, queue().filter(function (e) { return e.client_id !== clientId; }));
    showQueue();
  }
  function startFresh() {
    store.removeItem(DRAFT);
    var crop = form.elements.crop.value;
    form.reset();
    form.elements.crop.value = crop;
    idField.value = uuid();
    delete form.dataset.sent;
    restored = false;
    saveDraft();
  }

  // One send: resolves {ok, data} (stored), {refused, data} (a JSON refusal: the form must change),
  // {other} (not JSON: signed out, a page); rejects when the network or the server failed.
  function send(entry) {
    var body = new FormData(), i;
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    for (i = 0; i < entry.fields.length; i++) body.append(entry.fields[i][0], entry.fields[i][1]);
    return fetch(entry.action || form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CQS-Offline": "1", "Accept": "application/json" }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.status >= 500 || response.status === 429) throw new Error("server");
      if (!json) return { other: true };
      return response.json().then(function (data) {
        return response.ok ? { ok: true, data: data } : { refused: true, data: data };
      });
    });
  }

  function flush() {
    if (busy || !navigator.onLine) return;
    var q = queue();
    if (!q.length) return;
    busy = true;
    var sent = 0, left = [];
    function next(i) {
      if (i >= q.length) {
        busy = false;
        write(QUEUE, left.concat(queue().filter(function (e) {
          return !q.some(function (o) { return o.client_id === e.client_id; });
        })));
        showQueue();
        if (sent) say("Đã gửi " + sent + " phiếu đã lưu trên máy." + (left.length ? " Còn " + left.length + " phiếu chưa gửi được." : ""));
        return;
      }
      var entry = q[i];
      send(entry).then(function (result) {
        if (result.ok) {
          sent++;
          if (idField.value === entry.client_id) startFresh();
        } else if (result.refused) {
          entry.error = result.data.detail || "Phiếu bị từ chối.";
          left.push(entry);
          say("Phiếu lưu lúc " + time(entry.saved) + " không gửi được: " + entry.error +
              " Bấm “Nhập phiếu mới” rồi sửa, hoặc mở lại phiếu này bằng cách tải lại trang.");
        } else {
          entry.error = "Cần đăng nhập lại.";
          left.push(entry);
          say("Chưa gửi được phiếu đã lưu: phiên đăng nhập đã hết. Hãy đăng nhập lại rồi mở lại trang này.");
        }
        next(i + 1);
      }, function () {
        left = left.concat(q.slice(i));
        i = q.length;
        busy = false;
        write(QUEUE, left.concat(queue().filter(function (e) {
          return !q.some(function (o) { return o.client_id === e.client_id; });
        })));
        showQueue();
        say("Vẫn chưa có mạng: " + left.length + " phiếu đang chờ trên máy, sẽ tự gửi khi có mạng.");
      });
    }
    next(0);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (form.dataset.sent) return;
    form.dataset.sent = "1";
    saveDraft();
    var entry = read(DRAFT, null);
    say("Đang gửi phiếu…");
    send(entry).then(function (result) {
      if (result.ok) {
        dequeue(entry.client_id);
        store.removeItem(DRAFT);
        window.location.assign(result.data.url);
      } else {
        // Let the server's page show the refusal next to its field (or the sign-in page).
        HTMLFormElement.prototype.submit.call(form);
      }
    }, function () {
      delete form.dataset.sent;
      enqueue(entry);
      restored = true;
      showQueue();
      say("Chưa gửi được vì mất mạng. Phiếu đã lưu trên máy (lúc " + time(entry.saved) +
          ") và sẽ tự gửi khi có mạng; cũng có thể bấm “Gửi lại”. Bấm “Nhập phiếu mới” để điều tra ruộng khác.");
    });
  });

  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  retry.addEventListener("click", function () {
    if (!navigator.onLine) { say("Máy đang không có mạng; phiếu sẽ tự gửi khi có mạng."); return; }
    flush();
  });
  fresh.addEventListener("click", function () {
    startFresh();
    say("Đã mở phiếu mới. Các phiếu đã lưu vẫn chờ gửi.");
  });
  window.addEventListener("online", flush);

  // "Dùng vị trí của tôi": the phone's position into the two fields.
  var locate = document.getElementById("dung-vi-tri");
  var where = document.getElementById("vi-tri-trang-thai");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      where.textContent = "Đang lấy vị trí…";
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.latitude.value = position.coords.latitude.toFixed(6);
        form.elements.longitude.value = position.coords.longitude.toFixed(6);
        where.textContent = "Đã lấy vị trí (sai số khoảng " + Math.round(position.coords.accuracy) + " m).";
        saveDraft();
      }, function (error) {
        where.textContent = error.code === 1
          ? "Máy không cho phép lấy vị trí; có thể nhập tọa độ bằng tay hoặc bỏ trống."
          : "Không lấy được vị trí lúc này; có thể thử lại, nhập bằng tay hoặc bỏ trống.";
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
  }

  // Opening the page: a form being filled is restored (unless the server just answered this one
  // with its refusals), else a new client id; then whatever waits in the queue is sent.
  var draft = read(DRAFT, null);
  if (form.dataset.errors) {
    saveDraft();
  } else if (draft && draft.fields && draft.client_id) {
    if (queue().some(function (e) { return e.client_id === draft.client_id; })) {
      startFresh();
    } else {
      fill(draft.fields);
      idField.value = draft.client_id;
      restored = true;
      say("Đã mở lại phiếu đang nhập dở (lưu lúc " + time(draft.saved) + "). Bấm “Nhập phiếu mới” để bỏ phiếu này.");
    }
  } else {
    idField.value = uuid();
    saveDraft();
  }
  showQueue();
  flush();
})();
