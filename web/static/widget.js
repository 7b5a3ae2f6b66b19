/* painbot embed: a floating button that opens the chat (an iframe of /widget) in a panel.
   Everything lives in a closed shadow root, so the host page's styles are never touched. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__painbotWidget) return;
  window.__painbotWidget = true;
  var base = script.src.replace(/widget\.js(\?.*)?$/, "");
  var d = script.dataset;
  var title = d.title || "Ask about ketamine";
  var color = /^#[0-9a-fA-F]{3,8}$/.test(d.color || "") ? d.color : "#0b6e4f";
  var side = d.position === "left" ? "left" : "right";
  var host = document.createElement("div");
  host.setAttribute("data-painbot", "");
  host.style.cssText = "all: initial; position: fixed; z-index: 2147483000; bottom: 0; " + side + ": 0;";
  var root = host.attachShadow({mode: "open"});
  root.innerHTML =
    "<style>" +
    ":host{all:initial}" +
    ".btn{position:fixed;bottom:20px;" + side + ":20px;background:" + color + ";color:#fff;border:0;" +
    "border-radius:28px;padding:14px 20px;font:600 16px/1.2 system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".btn:focus-visible,.close:focus-visible{outline:3px solid #f0b429;outline-offset:2px}" +
    ".panel{position:fixed;bottom:84px;" + side + ":20px;width:380px;height:560px;max-height:calc(100vh - 100px);" +
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;display:none;" +
    "flex-direction:column;font:16px/1.5 system-ui,sans-serif;color:#1f2933}" +
    ".panel.open{display:flex}" +
    ".bar{display:flex;justify-content:flex-end;background:" + color + "}" +
    ".close{background:transparent;color:#fff;border:0;font:600 15px system-ui,sans-serif;padding:8px 12px;cursor:pointer}" +
    "iframe{border:0;flex:1;width:100%}" +
    ".down{padding:20px}" +
    "@media (max-width:600px){.panel{inset:0;width:auto;height:auto;max-height:none;border-radius:0}}" +
    "</style>" +
    "<button class='btn' type='button' aria-expanded='false'></button>" +
    "<div class='panel' role='dialog' aria-modal='false'><div class='bar'>" +
    "<button class='close' type='button'>Close ✕</button></div></div>";
  var button = root.querySelector(".btn"), panel = root.querySelector(".panel");
  button.textContent = title;
  panel.setAttribute("aria-label", title);
  var frame = null;
  function showDown() {
    if (frame) { frame.remove(); frame = null; }
    if (!panel.querySelector(".down")) {
      var msg = document.createElement("p");
      msg.className = "down";
      msg.textContent = "The assistant is not available right now. Please try again later.";
      panel.appendChild(msg);
    }
  }
  function open() {
    panel.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    if (frame) return;
    var old = panel.querySelector(".down");
    if (old) old.remove();
    fetch(base + "api/health", {mode: "no-cors", cache: "no-store"}).then(function () {
      if (frame) return;
      frame = document.createElement("iframe");
      frame.title = title;
      var q = new URLSearchParams({title: title, color: color});
      if (d.greeting) q.set("greeting", d.greeting);
      frame.src = base + "widget?" + q.toString();
      panel.appendChild(frame);
      frame.focus();
    }, showDown);
  }
  function close() {
    panel.classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  button.addEventListener("click", function () { panel.classList.contains("open") ? close() : open(); });
  root.querySelector(".close").addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  window.addEventListener("message", function (e) {
    if (frame && e.source === frame.contentWindow && e.data && e.data.painbot === "close") close();
  });
  (document.body || document.documentElement).appendChild(host);
})();
