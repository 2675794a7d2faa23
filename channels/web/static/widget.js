// Tend chat widget for a clinic's own site:
//   <script src="https://tend.example/widget.js" async></script>
// It adds a "Chat with us" button that opens the chat in a frame served by
// Tend, so the clinic's page styles and scripts cannot interfere with it.
(function () {
  "use strict";
  if (window.__tendWidget) return;
  window.__tendWidget = true;
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var base = new URL(script.src).origin;
  var label = (script.dataset && script.dataset.label) || "Chat with us";
  var closeLabel = (script.dataset && script.dataset.closeLabel) || "Close chat";

  var btn = document.createElement("button");
  btn.type = "button";
  btn.textContent = label;
  btn.setAttribute("aria-expanded", "false");
  btn.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483000;font:700 20px system-ui,sans-serif;" +
    "padding:0.8rem 1.2rem;min-height:56px;border:0;border-radius:2rem;background:#0b5a7a;color:#fff;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3)";
  var frame = document.createElement("iframe");
  frame.title = label;
  frame.style.cssText = "position:fixed;right:1rem;bottom:5.5rem;z-index:2147483000;width:min(28rem,calc(100vw - 2rem));" +
    "height:min(40rem,calc(100vh - 7rem));border:2px solid #0b5a7a;border-radius:1rem;background:#fff;display:none";
  btn.addEventListener("click", function () {
    var open = frame.style.display !== "none";
    if (!open && !frame.src) frame.src = base + "/chat?embed=1";
    frame.style.display = open ? "none" : "block";
    btn.textContent = open ? label : closeLabel;
    btn.setAttribute("aria-expanded", open ? "false" : "true");
    if (!open) frame.focus();
  });
  document.body.appendChild(frame);
  document.body.appendChild(btn);
})();
