/* Opsdesk console: countdowns, keyboard shortcuts and live updates. No framework; htmx does the swapping. */
(function () {
  "use strict";
  var body = document.body;
  var signedIn = body.dataset.signedIn === "yes";
  var desk = body.dataset.desk === "yes";
  var fmt = {
    left: body.dataset.fmtLeft || "%s left", overdue: body.dataset.fmtOverdue || "overdue by %s",
    min: body.dataset.fmtMin || "%d min", hour: body.dataset.fmtHour || "%d h"
  };

  function words(seconds) {
    var minutes = Math.floor(Math.max(0, seconds) / 60);
    if (minutes < 120) { return fmt.min.replace("%d", minutes); }
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    return fmt.hour.replace("%d", hours) + (rest ? " " + fmt.min.replace("%d", rest) : "");
  }

  /* SLA clocks: colour at the warning time and when breached; paused and met clocks stay as the server drew them. */
  function tickClocks() {
    var now = Date.now();
    document.querySelectorAll(".clock[data-due]").forEach(function (el) {
      var state = el.dataset.state;
      if (!el.dataset.due || state === "paused" || state === "met" || state === "cancelled") { return; }
      var due = Date.parse(el.dataset.due), warn = el.dataset.warning ? Date.parse(el.dataset.warning) : NaN;
      var left = (due - now) / 1000;
      var css = left <= 0 ? "breached" : (!isNaN(warn) && warn <= now ? "warning" : "ok");
      el.classList.remove("ok", "warning", "breached");
      el.classList.add(css);
      var text = el.querySelector(".left");
      if (text) { text.textContent = left >= 0 ? fmt.left.replace("%s", words(left)) : fmt.overdue.replace("%s", words(-left)); }
    });
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var started = parseInt(el.dataset.started, 10) * 1000, total = parseInt(el.dataset.seconds, 10);
      var left = Math.round(total - (now - started) / 1000);
      var out = el.querySelector(".left");
      var sign = left < 0 ? "-" : "", abs = Math.abs(left);
      out.textContent = sign + Math.floor(abs / 60) + ":" + String(abs % 60).padStart(2, "0");
      el.classList.toggle("breached", left < 0);
      el.classList.toggle("warning", left >= 0 && left < 60);
    });
  }
  setInterval(tickClocks, 1000);
  document.addEventListener("DOMContentLoaded", tickClocks);
  document.addEventListener("htmx:afterSwap", tickClocks);

  /* The call form: guidance minutes default to the time since the call began (the contract caps them at 5). */
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.id !== "call-form" || !ev.submitter || ev.submitter.value !== "resolve") { return; }
    var field = form.querySelector("[data-guidance]");
    if (field && !field.value) {
      var started = parseInt(form.querySelector("[name=started]").value, 10) * 1000;
      field.value = Math.min(5, Math.max(0.5, Math.round((Date.now() - started) / 30000) / 2));
    }
  });
  document.addEventListener("click", function (ev) {
    var pick = ev.target.closest("[data-pick-requester]");
    if (pick) {
      document.getElementById("requester_name").value = pick.dataset.name;
      var dep = document.getElementById("requester_department");
      if (dep && pick.dataset.department) { dep.value = pick.dataset.department; }
      var phone = document.getElementById("requester_phone");
      if (phone && pick.dataset.phone) { phone.value = pick.dataset.phone; }
      var account = document.getElementById("requester_id");
      if (account) { account.value = pick.dataset.username || ""; }
      document.getElementById("requester-matches").innerHTML = "";
      document.getElementById("requester_phone").focus();
    }
    if (ev.target.closest("[data-shortcuts]")) { openShortcuts(); }
    if (ev.target.closest("[data-reload-ticket]")) { refreshTicket(); }
    var row = ev.target.closest("tr[data-row]");
    if (row && !ev.target.closest("a")) { window.location.href = row.dataset.href; }
    /* A step's form opens under its button (no <details>: Chromium styles its parts inline, which the CSP refuses). */
    var toggle = ev.target.closest("[data-toggle]");
    if (toggle) {
      var box = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (box) {
        box.hidden = !open;
        var first = open && box.querySelector("input:not([type=hidden]), textarea, select");
        if (first) { first.focus(); }
      }
    }
    var back = ev.target.closest("[data-back]");
    if (back && window.history.length > 1) { ev.preventDefault(); window.history.back(); }
  });
  document.addEventListener("input", function (ev) {
    if (ev.target.id === "requester_name") {
      var chosen = document.getElementById("requester_id");
      if (chosen) { chosen.value = ""; }  /* a name typed after a pick is someone else's until picked again */
    }
    if (!ev.target.matches("[data-filter-services]")) { return; }
    var needle = ev.target.value.trim().toLowerCase();
    document.querySelectorAll("#service_code option").forEach(function (opt) {
      opt.hidden = needle !== "" && (opt.dataset.search || "").toLowerCase().indexOf(needle) < 0;
    });
  });
  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-autosubmit]")) { ev.target.form.submit(); }
  });

  /* Keyboard: / search, n new call, j/k move, o open, r reply, ? the list. */
  function openShortcuts() {
    var d = document.getElementById("shortcuts");
    if (d && !d.open) { d.showModal(); }
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-list] [data-row]")); }
  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var at = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = Math.min(all.length - 1, Math.max(0, at + step));
    all.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    all[next].classList.add("selected");
    all[next].setAttribute("aria-selected", "true");
    var link = all[next].querySelector("a");
    if (link) { link.focus(); }
  }
  document.addEventListener("keydown", function (ev) {
    if (!signedIn || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var t = ev.target;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) {
      if (ev.key === "Escape") { t.blur(); }
      return;
    }
    var key = ev.key;
    if (key === "/") {
      var q = document.getElementById("q");
      if (!q) { q = document.getElementById("kb-q"); }
      if (q) { ev.preventDefault(); q.focus(); q.select(); }
      else { ev.preventDefault(); window.location.href = desk ? "/queue" : "/kb"; }
    } else if (key === "n" && desk) {
      ev.preventDefault(); window.location.href = "/calls/new";
    } else if (key === "j") {
      ev.preventDefault(); move(1);
    } else if (key === "k") {
      ev.preventDefault(); move(-1);
    } else if (key === "o" || (key === "Enter" && document.querySelector("[data-row].selected"))) {
      var sel = document.querySelector("[data-row].selected") || rows()[0];
      if (sel) { ev.preventDefault(); window.location.href = sel.dataset.href; }
    } else if (key === "r") {
      var reply = document.getElementById("reply");
      if (reply) { ev.preventDefault(); reply.focus(); }
    } else if (key === "?" && desk) {
      ev.preventDefault(); openShortcuts();
    }
  });

  /* Live updates: the gateway's event stream through /events (the session cookie; the token stays on the server). */
  var pending = null;
  function refreshWorkspace() {
    var ws = document.getElementById("workspace");
    if (!ws || !window.htmx) { return; }
    if (pending) { return; }
    pending = setTimeout(function () { pending = null; window.htmx.trigger(ws, "refresh"); }, 400);
  }
  function refreshTicket() {
    var el = document.getElementById("ticket");
    if (el && window.htmx) { window.htmx.trigger(el, "refresh"); }
  }
  function busyTyping(el) {
    var active = document.activeElement;
    if (active && el.contains(active) && (active.value || "").length > 0) { return true; }
    return Array.prototype.some.call(el.querySelectorAll("textarea, input[type=text], input:not([type])"), function (f) { return f.value; });
  }
  function onEvent(ev) {
    var data = {};
    try { data = JSON.parse(ev.data || "{}"); } catch (e) { data = {}; }
    if (ev.type === "reload") { refreshWorkspace(); refreshTicket(); return; }
    if (ev.type === "signed_out") { window.location.href = "/login"; return; }
    refreshWorkspace();
    var ticket = document.getElementById("ticket");
    if (ticket && (data.ticket_id === ticket.dataset.ticket || data.number === ticket.dataset.number)) {
      if (busyTyping(ticket)) { ticket.querySelector("[data-changed]").hidden = false; }
      else {
        refreshTicket();
        // An assignment event comes from dispatch and can reach this page before the gateway's copy of the ticket has
        // taken it in (the ETA, the engineer): read it once more a moment later, unless the person has begun a step.
        if (ev.type.indexOf("assignment.") === 0) {
          setTimeout(function () {
            if (!busyTyping(ticket) && !document.querySelector("[aria-expanded=true]")) { refreshTicket(); }
          }, 1500);
        }
      }
    }
  }
  var NAMES = ["ticket.created", "ticket.updated", "ticket.commented", "ticket.noted", "ticket.status_changed", "ticket.assigned",
    "ticket.reassigned", "ticket.resolved", "ticket.closed", "ticket.reopened", "ticket.dispatch_requested",
    "ticket.service_record_reviewed", "assignment.accepted", "assignment.confirmed", "assignment.delayed",
    "assignment.completed", "assignment.help_requested", "assignment.withdrawn", "assignment.unassigned",
    "escalation.raised", "escalation.acknowledged", "sla.warning", "sla.breached", "reload", "signed_out"];
  function connect() {
    if (!signedIn || !window.EventSource) { return; }
    var status = document.getElementById("live-status");
    var source = new EventSource("/events");
    source.addEventListener("open", function () { if (status) { status.textContent = body.dataset.msgLive; status.className = "live on"; } });
    source.addEventListener("error", function () { if (status) { status.textContent = body.dataset.msgOffline; status.className = "live off"; } });
    source.addEventListener("ready", function () { if (status) { status.textContent = body.dataset.msgLive; status.className = "live on"; } });
    source.onmessage = onEvent;
    NAMES.forEach(function (name) { source.addEventListener(name, onEvent); });
    window.opsdeskEvents = source;
  }
  document.addEventListener("DOMContentLoaded", connect);

  /* Installable on a phone: a small service worker keeps the shell (styles, scripts, icons) for slow networks. */
  if (signedIn && "serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* the console works without it */ });
  }
})();
