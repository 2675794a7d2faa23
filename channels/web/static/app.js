// Tend web chat. Plain JavaScript, no build step. The session token lives in
// localStorage so a reload keeps the conversation; unsent messages wait in a
// local outbox and are retried with the same id, which the server uses to
// handle each message once.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) return;
  var words = root.dataset;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var status = document.getElementById("status");
  var restart = document.getElementById("restart");

  var KEY = "tend.session", OUTBOX = "tend.outbox";
  var session = localStorage.getItem(KEY);
  var lastSeq = 0;
  var seen = {};
  var events = null;
  var sending = false;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); }
  function setStatus(text) { status.textContent = text || ""; }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(role, text, extraClass) {
    var item = document.createElement("div");
    item.className = "msg " + role + (extraClass ? " " + extraClass : "");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (role === "patient" ? words.you : words.assistant) + ": ";
    item.appendChild(who);
    var body = document.createElement("p");
    body.className = "text";
    body.textContent = text;
    item.appendChild(body);
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function renderPatient(text, pendingId) {
    if (!text) return null;
    var el = bubble("patient", text, pendingId ? "pending" : "");
    if (pendingId) el.dataset.pending = pendingId;
    return el;
  }

  function renderBot(m) {
    if (!m || seen[m.id]) return;
    seen[m.id] = true;
    if (m.seq > lastSeq) lastSeq = m.seq;
    var cls = m.action === "emergency" ? "urgent" : "";
    var el = bubble("bot", m.text, cls);
    if (m.from) {
      var from = document.createElement("p");
      from.className = "from";
      from.textContent = m.from;
      el.insertBefore(from, el.children[1]);
    }
    (m.links || []).forEach(function (l) {
      var a = document.createElement("a");
      a.href = l.url;
      a.textContent = l.label;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      a.className = "link-out";
      el.appendChild(a);
    });
    if (m.buttons && m.buttons.length) {
      var group = document.createElement("div");
      group.className = "buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", words.optionsLabel);
      m.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "choice";
        btn.textContent = b.label;
        btn.addEventListener("click", function () {
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.disabled = true; });
          btn.classList.add("chosen");
          send({ text: b.label, payload: b.payload });
        });
        group.appendChild(btn);
      });
      el.appendChild(group);
    }
    scrollDown();
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  function ensureSession() {
    if (session) return Promise.resolve(session);
    return api("POST", "/api/v1/web/sessions").then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (j) {
      session = j.session;
      localStorage.setItem(KEY, session);
      return session;
    });
  }

  // send queues a message in the outbox and delivers it.
  function send(msg) {
    msg.id = msg.id || newId();
    var items = outbox();
    items.push(msg);
    saveOutbox(items);
    if (!msg.hidden) renderPatient(msg.text, msg.id);
    flush();
  }

  function flush(delay) {
    if (sending) return;
    var items = outbox();
    if (!items.length) return;
    sending = true;
    var msg = items[0];
    setTimeout(function () {
      ensureSession().then(function () {
        setStatus(words.sending);
        return api("POST", "/api/v1/web/messages", {
          session: session, id: msg.id, text: msg.text || "", payload: msg.payload || "",
          locale: navigator.language || root.dataset.lang,
        });
      }).then(function (r) {
        if (r.status === 429) {
          var wait = parseInt(r.headers.get("Retry-After") || "2", 10);
          setStatus(words.slowDown);
          sending = false;
          flush(wait * 1000);
          return;
        }
        if (r.status >= 500) throw new Error("server " + r.status);
        return r.json().then(function (j) {
          saveOutbox(outbox().filter(function (x) { return x.id !== msg.id; }));
          var pending = log.querySelector('[data-pending="' + msg.id + '"]');
          if (pending) { pending.classList.remove("pending"); delete pending.dataset.pending; }
          setStatus("");
          (j.replies || []).forEach(renderBot);
          sending = false;
          if (!events) connectEvents();
          flush();
        });
      }).catch(function () {
        setStatus(words.retrying);
        sending = false;
        flush(Math.min(30000, (delay || 1000) * 2));
      });
    }, delay || 0);
  }

  function connectEvents() {
    if (!session || !window.EventSource) return;
    events = new EventSource("/api/v1/web/events?session=" + encodeURIComponent(session) + "&after=" + lastSeq);
    events.addEventListener("message", function (e) {
      try { renderBot(JSON.parse(e.data)); } catch (err) { /* ignore a malformed event */ }
    });
  }

  function loadHistory() {
    return api("GET", "/api/v1/web/messages?session=" + encodeURIComponent(session)).then(function (r) {
      if (!r.ok) throw new Error("history " + r.status);
      return r.json();
    }).then(function (j) {
      (j.messages || []).forEach(function (m) {
        if (m.role === "patient") renderPatient(m.text);
        else renderBot(m);
      });
      return (j.messages || []).length;
    });
  }

  function start() {
    var pendingItems = outbox();
    if (session) {
      loadHistory().then(function (n) {
        pendingItems.forEach(function (m) { if (!m.hidden) renderPatient(m.text, m.id); });
        connectEvents();
        if (n === 0 && !pendingItems.length) send({ payload: "menu:welcome", hidden: true });
        else flush();
      }).catch(function () { setStatus(words.retrying); setTimeout(start, 3000); });
    } else {
      saveOutbox([]);
      send({ payload: "menu:welcome", hidden: true });
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text });
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  restart.addEventListener("click", function () {
    if (events) { events.close(); events = null; }
    localStorage.removeItem(KEY);
    saveOutbox([]);
    session = null; lastSeq = 0; seen = {};
    log.textContent = "";
    send({ payload: "menu:welcome", hidden: true });
    input.focus();
  });

  start();
})();
