// Tend web chat. Plain JavaScript, no build step. The session token, issued
// by the server, lives in localStorage so a reload keeps the conversation
// while the session lives; it travels only in the Authorization header,
// never in a URL. Unsent messages wait in a local outbox and are retried
// with the same id, which the server uses to handle each message once. When
// the server says the session has ended (401: idle too long, or unknown),
// the page starts a new chat and tells the patient why.
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
  var stream = null;     // the event stream's AbortController while one is open
  var generation = 0;    // a new chat makes every older callback a no-op
  var sending = false;
  var lastExpired = 0;

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

  function authHeaders(headers) {
    headers = headers || {};
    if (session) headers.Authorization = "Bearer " + session;
    return headers;
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: authHeaders(body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
  }

  function notice(text) {
    var item = document.createElement("div");
    item.className = "msg notice";
    item.setAttribute("role", "status");
    var body = document.createElement("p");
    body.className = "text";
    body.textContent = text;
    item.appendChild(body);
    log.appendChild(item);
    scrollDown();
  }

  function stopEvents() {
    if (stream) { stream.abort(); stream = null; }
  }

  // resetChat forgets the session and everything shown; callbacks of the
  // old chat still in flight see a newer generation and do nothing.
  function resetChat() {
    generation++;
    stopEvents();
    localStorage.removeItem(KEY);
    saveOutbox([]);
    session = null; lastSeq = 0; seen = {}; sending = false;
    log.textContent = "";
    setStatus("");
  }

  // expired: the server no longer knows this session. Start a new chat,
  // say so politely, and give back what the patient had typed but not sent.
  function expired() {
    var unsent = outbox().filter(function (m) { return !m.hidden && m.text; }).map(function (m) { return m.text; });
    resetChat();
    notice(words.expired);
    if (unsent.length && !input.value.trim()) input.value = unsent.join("\n");
    var now = Date.now();
    var wait = now - lastExpired < 10000 ? 3000 : 0; // never loop quickly
    lastExpired = now;
    var gen = generation;
    setTimeout(function () { if (gen === generation) send({ payload: "menu:welcome", hidden: true }); }, wait);
  }

  function ensureSession(gen) {
    if (session) return Promise.resolve(session);
    return api("POST", "/api/v1/web/sessions").then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (j) {
      if (gen !== generation) throw new Error("a newer chat started");
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
    var gen = generation;
    setTimeout(function () {
      if (gen !== generation) return;
      ensureSession(gen).then(function () {
        setStatus(words.sending);
        return api("POST", "/api/v1/web/messages", {
          id: msg.id, text: msg.text || "", payload: msg.payload || "",
          locale: navigator.language || root.dataset.lang,
        });
      }).then(function (r) {
        if (gen !== generation) return;
        if (r.status === 401) { expired(); return; }
        if (r.status === 429) {
          var wait = parseInt(r.headers.get("Retry-After") || "2", 10);
          setStatus(words.slowDown);
          sending = false;
          flush(wait * 1000);
          return;
        }
        if (r.status >= 500) throw new Error("server " + r.status);
        return r.json().then(function (j) {
          if (gen !== generation) return;
          saveOutbox(outbox().filter(function (x) { return x.id !== msg.id; }));
          var pending = log.querySelector('[data-pending="' + msg.id + '"]');
          if (pending) { pending.classList.remove("pending"); delete pending.dataset.pending; }
          setStatus("");
          (j.replies || []).forEach(renderBot);
          sending = false;
          if (!stream) connectEvents();
          flush();
        });
      }).catch(function () {
        if (gen !== generation) return;
        setStatus(words.retrying);
        sending = false;
        flush(Math.min(30000, (delay || 1000) * 2));
      });
    }, delay || 0);
  }

  // connectEvents reads the server-sent events with fetch(), which can send
  // the session in the Authorization header (EventSource cannot). The server
  // closes a stream after a while; the page then reconnects from the last
  // message it has.
  function connectEvents() {
    if (!session || stream || !window.fetch || !window.ReadableStream || !window.AbortController) return;
    var gen = generation;
    var ctrl = new AbortController();
    stream = ctrl;
    fetch("/api/v1/web/events?after=" + lastSeq, {
      headers: authHeaders({ Accept: "text/event-stream" }), signal: ctrl.signal, cache: "no-store",
    }).then(function (r) {
      if (gen !== generation) return;
      if (r.status === 401) { stream = null; expired(); return; }
      if (!r.ok || !r.body) {
        reconnect(gen, ctrl, parseInt(r.headers.get("Retry-After") || "3", 10) * 1000);
        return;
      }
      return readEvents(r.body, gen).then(function () { reconnect(gen, ctrl, 500); });
    }).catch(function () { reconnect(gen, ctrl, 3000); });
  }

  function reconnect(gen, ctrl, delay) {
    if (gen !== generation || stream !== ctrl) return;
    stream = null;
    setTimeout(function () { if (gen === generation) connectEvents(); }, delay);
  }

  function readEvents(body, gen) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buf = "";
    function pump() {
      return reader.read().then(function (res) {
        if (res.done || gen !== generation) return;
        buf += decoder.decode(res.value, { stream: true });
        var i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          frame(buf.slice(0, i), gen);
          buf = buf.slice(i + 2);
        }
        return pump();
      });
    }
    return pump();
  }

  function frame(text, gen) {
    var event = "message", data = [];
    text.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) event = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (gen !== generation || event !== "message" || !data.length) return;
    try { renderBot(JSON.parse(data.join("\n"))); } catch (err) { /* ignore a malformed event */ }
  }

  function loadHistory() {
    return api("GET", "/api/v1/web/messages").then(function (r) {
      if (r.status === 401) return null;
      if (!r.ok) throw new Error("history " + r.status);
      return r.json();
    }).then(function (j) {
      if (!j) return -1;
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
        if (n < 0) { expired(); return; }
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
  // "Start a new chat" ends the session on the server too, so the old
  // conversation cannot be read with the old token any more.
  restart.addEventListener("click", function () {
    var old = session;
    resetChat();
    if (old) {
      fetch("/api/v1/web/sessions", { method: "DELETE", headers: { Authorization: "Bearer " + old }, keepalive: true })
        .catch(function () { /* the server ends it when idle */ });
    }
    send({ payload: "menu:welcome", hidden: true });
    input.focus();
  });

  start();
})();
