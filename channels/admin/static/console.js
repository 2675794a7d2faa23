// The console's small enhancements; every page works without them.
"use strict";
(function () {
  const body = document.body;

  // Sign out on idle: the server ends the session after TEND_CONSOLE_IDLE
  // without a request; the page follows, so nothing stays on screen.
  const idle = parseInt(body.dataset.idle || "0", 10);
  if (idle > 0) {
    setTimeout(function () { location.assign("/admin/login?ended=1"); }, idle * 1000 + 500);
  }

  document.addEventListener("click", function (e) {
    const b = e.target.closest("[data-confirm]");
    if (b && !confirm(b.dataset.confirm)) e.preventDefault();
  });

  // Drag and drop onto the upload form.
  const up = document.getElementById("upload"), drop = document.getElementById("drop");
  if (up && drop) {
    drop.hidden = false;
    ["dragenter", "dragover"].forEach(function (t) {
      up.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    up.addEventListener("dragleave", function () { drop.classList.remove("over"); });
    up.addEventListener("drop", function (e) {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files.length) { up.querySelector("input[type=file]").files = e.dataTransfer.files; up.submit(); }
    });
  }

  // Live views: a background refresh, which does not count as activity.
  function poll(el, every, render) {
    const tick = function () {
      fetch(el.dataset.live, { headers: { "X-Tend-Background": "1", "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (r.status === 401) { location.assign("/admin/login?ended=1"); } return r.ok ? r.json() : null; })
        .then(function (d) { if (d) render(d); })
        .catch(function () {});
    };
    setInterval(tick, every);
  }
  function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
  function when(s) { return s ? s.slice(0, 16).replace("T", " ") + " UTC" : ""; }

  const inbox = document.querySelector("#inbox[data-live]");
  if (inbox) poll(inbox, 4000, function (items) {
    const tb = inbox.tBodies[0];
    tb.replaceChildren();
    items.forEach(function (it) {
      const tr = document.createElement("tr");
      if (it.urgent) tr.className = "urgent";
      cell(tr, when(it.created_at)); cell(tr, (it.urgent ? "urgent " : "") + it.reason); cell(tr, it.status);
      cell(tr, it.channel); cell(tr, it.lang); cell(tr, it.owner_name || "");
      const a = document.createElement("a"); a.href = "/admin/inbox/" + it.id; a.textContent = "Open";
      cell(tr, "").appendChild(a);
      tb.appendChild(tr);
    });
    if (!items.length) { const tr = document.createElement("tr"); cell(tr, "Nobody is waiting.").colSpan = 7; tb.appendChild(tr); }
  });

  const flags = document.querySelector("#flags[data-live]");
  if (flags) poll(flags, 4000, function (items) {
    const tb = flags.tBodies[0];
    tb.replaceChildren();
    items.forEach(function (f) {
      const tr = document.createElement("tr"); tr.className = "urgent";
      cell(tr, when(f.flagged_at)); cell(tr, f.channel); cell(tr, f.lang);
      cell(tr, f.handoff ? f.handoff.status + (f.handoff.owner_name ? " with " + f.handoff.owner_name : "") : "none open");
      const a = document.createElement("a"); a.href = "/admin/conversations/" + f.conversation_id; a.textContent = "Open";
      cell(tr, "").appendChild(a);
      tb.appendChild(tr);
    });
    if (!items.length) { const tr = document.createElement("tr"); cell(tr, "No emergency flags.").colSpan = 5; tb.appendChild(tr); }
  });

  const tr = document.querySelector("#transcript[data-live]");
  if (tr) poll(tr, 3000, function (d) {
    if (d.transcript.length === tr.children.length) return;
    tr.replaceChildren();
    d.transcript.forEach(function (l) {
      const li = document.createElement("li"); li.className = l.role;
      const who = document.createElement("span"); who.className = "who"; who.textContent = l.from || l.role;
      const t = document.createElement("time"); t.textContent = " " + when(l.at);
      const p = document.createElement("p"); p.textContent = l.text;
      li.append(who, t, p); tr.appendChild(li);
    });
    const st = document.getElementById("state"); if (st) st.textContent = d.handoff.status;
  });
})();
