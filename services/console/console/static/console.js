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
    /* The compact header's menu (narrow screens): language and account under the one row. */
    var menu = ev.target.closest("[data-menu]");
    if (menu) {
      var head = menu.closest("header");
      var shown = !head.classList.contains("menu-open");
      head.classList.toggle("menu-open", shown);
      menu.setAttribute("aria-expanded", shown ? "true" : "false");
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

  /* Live updates: the gateway's event stream, opened with a ticket from /events/ticket (see connect below). */
  var pending = null;
  function refreshWorkspace() {
    var ws = document.getElementById("workspace");
    if (!ws || !window.htmx || leaving) { return; }
    if (pending) { return; }
    pending = setTimeout(function () { pending = null; window.htmx.trigger(ws, "refresh"); }, 400);
  }
  /* A person's act on the ticket (a step, a comment: any request but a GET aimed at #ticket) and a live refresh must
     not cross. While the act is on its way, a refresh waits and runs after it; a refresh already on its way when the
     act starts is not swapped in (it would replace the form whose answer is coming, and the answer, with its notice,
     would land in a page no longer shown). The answer's notice ("Saved.") stays through refreshes that follow for a
     minute: an event of the act itself (the note the ETA adds) refreshes the ticket right after it. */
  var acting = 0, refreshAfterAct = false, actedAt = 0, actStarted = 0;
  function ticketAct(detail) {
    var verb = ((detail.requestConfig || {}).verb || "get").toLowerCase();
    var target = detail.target || (detail.requestConfig || {}).target;
    return verb !== "get" && target && target.id === "ticket";
  }
  var SAID = ":scope > p.notice[role=status], :scope > p.error[role=alert]";
  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (!ticketAct(ev.detail)) { return; }
    acting += 1; actStarted = Date.now(); actedAt = 0;
    // What the last act said is not this act's answer: it goes now, and this act's answer comes with its response.
    Array.prototype.forEach.call(ev.detail.target.querySelectorAll(SAID), function (p) { p.remove(); });
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    if (!ticketAct(ev.detail)) { return; }
    acting = Math.max(0, acting - 1);
    actedAt = Date.now();
    if (acting === 0 && refreshAfterAct) { refreshAfterAct = false; refreshTicket(); }
  });
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail, target = d.target;
    if (!target || target.id !== "ticket" || ticketAct(d)) { return; }
    if (acting > 0) { d.shouldSwap = false; refreshAfterAct = true; return; }
    if (Date.now() - actedAt > 60000 || typeof d.serverResponse !== "string") { return; }
    var said = target.querySelectorAll(SAID);
    if (!said.length) { return; }
    var tpl = document.createElement("template");
    tpl.innerHTML = d.serverResponse;
    var fresh = tpl.content.querySelector("#ticket");
    if (!fresh || fresh.querySelector(SAID)) { return; }
    var after = fresh.querySelector(":scope > [data-changed]");
    Array.prototype.slice.call(said).reverse().forEach(function (p) {
      var copy = p.cloneNode(true);
      if (after) { after.after(copy); } else { fresh.prepend(copy); }
    });
    d.serverResponse = tpl.innerHTML;
  });
  /* The workspace (a queue, the agency's or the manager's inboxes) is refreshed whole on live events. Two things a
     refresh must never throw away: a form the person just submitted (Chromium cancels a submission whose form left
     the document before its navigation began: the click is lost, seen in the agency's sign-off), and a field the
     person has begun to fill (a decline note, a return's comments). The first stops refreshes for good (the page is
     leaving); the second waits until the person is done, then refreshes once. */
  var leaving = false, workspaceLater = null;
  var pageAskedAt = (window.performance && performance.timeOrigin) || Date.now();
  document.addEventListener("submit", function (ev) {
    // Bubbling, after htmx: a form htmx sends (default prevented) leaves the page where it is.
    if (!ev.defaultPrevented && ev.target.closest && ev.target.closest("#workspace")) { leaving = true; }
  });
  function busyWriting(ws) {  // a form that writes (method=post) begun; a queue's filter box does not count
    return Array.prototype.some.call(ws.querySelectorAll("form[method=post]"), busyTyping);
  }
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var target = ev.detail.target;
    if (!target || target.id !== "workspace") { return; }
    if (leaving) { ev.detail.shouldSwap = false; return; }
    if (busyWriting(target)) {
      ev.detail.shouldSwap = false;
      if (workspaceLater) { clearTimeout(workspaceLater); }
      workspaceLater = setTimeout(function () { workspaceLater = null; refreshWorkspace(); }, 5000);
    }
  });
  function refreshTicket() {
    var el = document.getElementById("ticket");
    if (!el || !window.htmx) { return; }
    if (acting > 0 && Date.now() - actStarted < 120000) { refreshAfterAct = true; return; }
    acting = 0;
    window.htmx.trigger(el, "refresh");
  }
  /* The person has begun something on the ticket: a field changed from what the page gave (typed, picked, a time
     set, a box ticked). A live refresh would throw it away, so the page says the ticket changed instead. */
  function busyTyping(el) {
    // A form the server filled again with what a refused act carried (data-kept) counts as typed into.
    if (el.querySelector("form[data-kept]")) { return true; }
    return Array.prototype.some.call(el.querySelectorAll("input:not([type=hidden]), textarea, select"), function (f) {
      if (f.type === "checkbox" || f.type === "radio") { return f.checked !== f.defaultChecked; }
      if (f.tagName === "SELECT") {
        var given = Array.prototype.findIndex.call(f.options, function (o) { return o.defaultSelected; });
        return f.selectedIndex !== Math.max(given, 0);
      }
      return f.value !== f.defaultValue;
    });
  }
  /* The SLA monitor writes a notice (assigned, breach, ...) from the same events the stream relays, a moment later:
     the header's count reads itself again once the stream has been quiet for 2 s. */
  var noticeTimer = null;
  function refreshNoticeCount() {
    if (noticeTimer) { clearTimeout(noticeTimer); }
    noticeTimer = setTimeout(function () {
      noticeTimer = null;
      // The header's count and, on /notices, the list listen for it on the body.
      if (window.htmx) { window.htmx.trigger(document.body, "notices-changed"); }
    }, 2000);
  }
  function onEvent(ev) {
    seen(ev);
    var data = {};
    try { data = JSON.parse(ev.data || "{}"); } catch (e) { data = {}; }
    if (ev.type === "reload") { refreshWorkspace(); refreshTicket(); return; }
    if (ev.type === "signed_out") { window.location.href = "/login"; return; }
    // An event from before this page was asked for is in the page already: no refresh. (Events of the person's own
    // last act reach the page they were sent to; refreshing it then swapped the forms under their next click.)
    var at = data.occurred_at ? Date.parse(data.occurred_at) : NaN;
    if (!isNaN(at) && at < pageAskedAt) { return; }
    refreshWorkspace();
    refreshNoticeCount();
    var ticket = document.getElementById("ticket");
    if (ticket && (data.ticket_id === ticket.dataset.ticket || data.number === ticket.dataset.number)) {
      if (busyTyping(ticket)) { ticket.querySelector("[data-changed]").hidden = false; }
      else {
        refreshTicket();
        // An assignment event comes from dispatch and can reach this page before the gateway's copy of the ticket has
        // taken it in (the ETA, the engineer): read it once more a moment later, unless the person has begun a step.
        if (ev.type.indexOf("assignment.") === 0) {
          setTimeout(function () {
            var now = document.getElementById("ticket");  // the element read above is replaced by the first refresh
            if (now && !busyTyping(now) && !now.querySelector("[data-toggle][aria-expanded=true]")) { refreshTicket(); }
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
  /* The page reads the gateway's own stream (/api/v1/events/stream, not through the console): the console's
     /events/ticket gives a ticket (the session's token stays on the server) that opens the stream for a minute. On
     any break the page closes the source (no browser retry with a spent ticket), asks for a fresh ticket and
     reopens with after= the last id seen. No ticket because the session ended (401): to the sign-in page. */
  var lastId = "", failures = 0, reopening = null, source = null;
  function seen(ev) { if (ev && ev.lastEventId) { lastId = ev.lastEventId; } }
  function showLive(on) {
    var status = document.getElementById("live-status");
    if (!status) { return; }
    status.textContent = on ? body.dataset.msgLive : body.dataset.msgOffline;
    status.className = on ? "live on" : "live off";
  }
  function reopenLater(seconds) {
    if (reopening || leaving) { return; }
    failures += 1;
    // Backing off (1, 2, 4 ... 30 s) with jitter: consoles cut off together do not come back together.
    var wait = seconds ? seconds * 1000 : Math.min(30000, 1000 * Math.pow(2, Math.min(failures - 1, 5)));
    reopening = setTimeout(function () { reopening = null; connect(); }, wait * (0.75 + Math.random() * 0.5));
  }
  function connect() {
    if (!signedIn || !window.EventSource || !window.fetch) { return; }
    fetch("/events/ticket", { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.href = "/login"; return null; }
        if (!r.ok) { reopenLater(parseInt(r.headers.get("Retry-After") || "", 10) || 0); return null; }
        return r.json();
      })
      .then(function (t) { if (t && t.ticket) { openStream(t.ticket); } else if (t) { reopenLater(0); } })
      .catch(function () { showLive(false); reopenLater(0); });
  }
  function openStream(ticket) {
    if (source) { source.close(); }
    var url = "/api/v1/events/stream?ticket=" + encodeURIComponent(ticket) + (lastId ? "&after=" + encodeURIComponent(lastId) : "");
    var s = new EventSource(url);
    source = s;
    s.addEventListener("open", function () { failures = 0; showLive(true); });
    s.addEventListener("error", function () {
      showLive(false);
      if (source !== s) { return; }
      // Every break (a refusal, or a stream the gateway ended) is reopened here with a fresh ticket and after= the
      // last id: the browser's own retry would reuse this URL, whose ticket opens streams for a minute only, and a
      // refused retry shows as an error in the browser's console.
      s.close(); reopenLater(0);
    });
    s.addEventListener("ready", function (ev) { seen(ev); failures = 0; showLive(true); });
    s.onmessage = onEvent;
    NAMES.forEach(function (name) { s.addEventListener(name, onEvent); });
    window.opsdeskEvents = s;
  }
  document.addEventListener("DOMContentLoaded", connect);

  /* Installable on a phone: a small service worker keeps the shell (styles, scripts, icons) for slow networks. */
  if (signedIn && "serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* the console works without it */ });
  }
})();
