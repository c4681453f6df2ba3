// simdesk activations: countdowns, copy buttons, and the "code arrived" toast, title badge and beep.
// The board works without this file (htmx swaps it); these are comforts on top.
(function () {
  "use strict";

  var SOUND_KEY = "simdesk.codeSound";
  var baseTitle = document.title;
  var unseen = 0;

  // --- countdowns: elements carry seconds left at render time; the deadline is fixed when they appear.
  function armCountdowns(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-countdown]").forEach(function (el) {
      if (!el.dataset.deadline) el.dataset.deadline = String(now + Number(el.getAttribute("data-countdown")) * 1000);
    });
    (root || document).querySelectorAll("[data-reveal-after]").forEach(function (el) {
      if (!el.dataset.deadline) el.dataset.deadline = String(now + Number(el.getAttribute("data-reveal-after")) * 1000);
    });
  }

  function clock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown][data-deadline]").forEach(function (el) {
      var left = Math.max(0, Math.round((Number(el.dataset.deadline) - now) / 1000));
      el.textContent = clock(left);
      el.classList.toggle("countdown-low", left > 0 && left < 120);
    });
    // The cancel button appears when the provider allows it; the server checks again anyway.
    document.querySelectorAll("[data-reveal-after][data-deadline]").forEach(function (el) {
      if (Number(el.dataset.deadline) > now) return;
      el.querySelectorAll(".when-locked").forEach(function (x) { x.hidden = true; });
      el.querySelectorAll(".when-unlocked").forEach(function (x) { x.hidden = false; });
    });
  }

  // --- copy buttons: data-copy-text holds the value itself.
  function toast(message, extra) {
    var box = document.getElementById("toasts");
    if (!box || !message) return null;
    var item = document.createElement("div");
    item.className = "toast" + (extra ? " " + extra : "");
    item.setAttribute("role", "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
    return item;
  }

  function copyText(text, note) {
    var done = function () { toast(note || "Copied"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-text]");
    if (!button) return;
    copyText(button.getAttribute("data-copy-text"), button.getAttribute("data-copied"));
    clearBadge();
  });

  // --- new codes: toast with a copy button, "(n)" in the title, optional beep.
  function clearBadge() {
    unseen = 0;
    document.title = baseTitle;
  }

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx();
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.25);
      osc.onended = function () { ctx.close(); };
    } catch (e) { /* audio is optional */ }
  }

  document.body.addEventListener("codeArrived", function (event) {
    var detail = event.detail || {};
    var codes = detail.codes && detail.codes.length ? detail.codes : [{ phone: detail.phone, code: detail.code }];
    codes.forEach(function (item) {
      var el = toast("+" + item.phone + ": " + item.code, "toast-code");
      if (el) {
        el.setAttribute("data-copy-text", item.code);
        el.setAttribute("data-copied", item.code);
        el.title = el.textContent;
      }
    });
    unseen += codes.length;
    document.title = "(" + unseen + ") " + baseTitle;
    if (localStorage.getItem(SOUND_KEY) === "1") beep();
  });

  window.addEventListener("focus", clearBadge);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) clearBadge(); });

  var soundToggle = document.querySelector("[data-sound-toggle]");
  if (soundToggle) {
    soundToggle.checked = localStorage.getItem(SOUND_KEY) === "1";
    soundToggle.addEventListener("change", function () {
      localStorage.setItem(SOUND_KEY, soundToggle.checked ? "1" : "0");
      if (soundToggle.checked) beep();
    });
  }

  // --- keep open <details> (full SMS, panels) open across board refreshes.
  var openDetails = [];
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "board") {
      openDetails = Array.prototype.map.call(event.detail.target.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    }
  });

  document.body.addEventListener("htmx:load", function (event) {
    armCountdowns(event.target);
    openDetails.forEach(function (id) {
      var d = document.getElementById(id);
      if (d && !d.open) d.open = true;
    });
    tick();
  });

  armCountdowns(document);
  tick();
  setInterval(tick, 1000);
})();
