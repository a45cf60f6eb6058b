// Filters, sort and the per-host view of a drift report. Reads only data-* attributes and
// writes only textContent and the `hidden` attribute: nothing from the report becomes markup.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var body = $("rows");
  if (!body) { return; }
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr.finding"));
  var controls = { severity: $("f-severity"), category: $("f-category"), role: $("f-role"),
                   host: $("f-host"), text: $("f-text") };
  var has = function (list, word) { return (" " + list + " ").indexOf(" " + word + " ") >= 0; };

  function state() {
    return { severity: controls.severity.value, category: controls.category.value, role: controls.role.value,
             host: controls.host.value, text: controls.text.value.trim().toLowerCase() };
  }

  function apply(saveHash) {
    var s = state(), min = s.severity === "" ? -1 : Number(s.severity), shown = 0, odd = 0;
    rows.forEach(function (r) {
      var d = r.dataset;
      var ok = Number(d.severity) >= min &&
        (s.category === "" || d.category === s.category) &&
        (s.role === "" || has(d.roles, s.role)) &&
        (s.host === "" || has(d.hosts, s.host)) &&
        (s.text === "" || r.textContent.toLowerCase().indexOf(s.text) >= 0);
      r.hidden = !ok;
      var oddHere = s.host !== "" && has(d.odd, s.host);
      r.classList.toggle("odd-here", oddHere);
      if (ok) { shown += 1; if (oddHere) { odd += 1; } }
    });
    $("shown").textContent = shown + " of " + rows.length + " findings shown";
    var view = $("hostview");
    if (s.host === "") {
      view.hidden = true;
    } else {
      view.hidden = false;
      $("hv-host").textContent = s.host;
      $("hv-odd").textContent = String(odd);
      $("hv-all").textContent = String(shown);
    }
    if (saveHash && window.history && history.replaceState) {
      var parts = [];
      Object.keys(s).forEach(function (k) { if (s[k] !== "") { parts.push(k + "=" + encodeURIComponent(s[k])); } });
      if (sorted) { parts.push("sort=" + sorted); }
      history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
    }
  }

  var sorted = "";

  function fromHash() {
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var i = pair.indexOf("="), key = pair.slice(0, i), value;
      if (i < 0) { return; }
      try { value = decodeURIComponent(pair.slice(i + 1)); } catch (e) { return; }
      if (key === "sort") {
        var b = document.querySelector("th button[data-sort='" + value.replace(/^-/, "").replace(/[^a-z]/g, "") + "']");
        if (b) { sortBy(b, value.charAt(0) === "-"); }
        return;
      }
      if (!Object.prototype.hasOwnProperty.call(controls, key)) { return; }
      var c = controls[key];
      if (c.tagName === "SELECT") {
        if (Array.prototype.some.call(c.options, function (o) { return o.value === value; })) { c.value = value; }
      } else {
        c.value = value;
      }
    });
  }

  var sortKey = { severity: function (r) { return -Number(r.dataset.severity) * 1e6 + Number(r.dataset.order); },
                  category: function (r) { return r.dataset.category; },
                  role: function (r) { return r.dataset.roles; },
                  finding: function (r) { return r.dataset.subject; },
                  where: function (r) { return r.dataset.where; } };

  function sortBy(button, descending) {
    var key = button.dataset.sort;
    var down = descending === undefined ? button.getAttribute("aria-sort") === "ascending" : descending;
    sorted = (down ? "-" : "") + key;
    Array.prototype.forEach.call(document.querySelectorAll("th button"), function (b) { b.removeAttribute("aria-sort"); });
    button.setAttribute("aria-sort", down ? "descending" : "ascending");
    var f = sortKey[key];
    rows.sort(function (a, b) {
      var x = f(a), y = f(b), c = x < y ? -1 : x > y ? 1 : Number(a.dataset.order) - Number(b.dataset.order);
      return down ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener(k === "text" ? "input" : "change", function () { apply(true); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("th button[data-sort]"), function (b) {
    b.addEventListener("click", function () { sortBy(b); apply(true); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.host"), function (b) {
    b.addEventListener("click", function () { controls.host.value = b.dataset.host; apply(true); });
  });
  $("f-reset").addEventListener("click", function () {
    Object.keys(controls).forEach(function (k) { controls[k].value = ""; });
    apply(true);
  });
  fromHash();
  apply(false);
  document.documentElement.setAttribute("data-ready", "1");
})();
