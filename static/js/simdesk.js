// simdesk: the page behaviours, one implementation each, for every page: toasts, copy to clipboard,
// countdowns, confirmation, what arrived on a live board, and morphing that keeps what the member typed.
// Every page works without this file; these are comforts on top.
(function () {
  "use strict";

  // Translations from Django's JavaScriptCatalog (/jsi18n/<language>/, loaded before this file); without
  // it the English source strings stand.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (all, name) { return String(values[name]); });
  };

  // --- toasts: `toast(message)`, and the server's `toast` event (kit.boards.toast) ---------------------
  function toast(message, options) {
    var box = document.getElementById("toasts");
    if (!box || !message) return null;
    options = options || {};
    var item = document.createElement("div");
    item.className = "toast" + (options.level ? " toast-" + options.level : "") + (options.className ? " " + options.className : "");
    item.setAttribute("role", "status");
    item.textContent = message;
    if (options.copy) {
      // A click on the toast copies the code it shows.
      item.setAttribute("data-copy-text", options.copy);
      item.setAttribute("data-copied", options.copy);
      item.title = message;
    }
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, options.duration || 4000);
    return item;
  }

  // --- `detailsopened`: a <details> was opened. htmx triggers load on it without an event filter
  // (`toggle[target.open]`), which would need eval, refused by the Content-Security-Policy.
  document.addEventListener("toggle", function (event) {
    var target = event.target;
    if (target && target.tagName === "DETAILS" && target.open) {
      target.dispatchEvent(new CustomEvent("detailsopened", { bubbles: true }));
    }
  }, true);

  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    toast(detail.message, { level: detail.level });
  });

  // --- copy to clipboard: data-copy-text="<the text>" or data-copy="<selector of an input>" -------------
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

  function copyText(text, note) {
    var done = function () { toast(note || document.body.getAttribute("data-copied")); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-text], [data-copy]");
    if (button) {
      var text = button.getAttribute("data-copy-text");
      if (text === null) {
        var input = document.querySelector(button.getAttribute("data-copy"));
        if (input) {
          input.select();
          text = input.value;
        }
      }
      if (text !== null) copyText(text, button.getAttribute("data-copied"));
      clearUnseen();
    }
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.parentElement.remove();
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
    var toggle = event.target.closest("[data-navtoggle]");
    document.querySelectorAll("[data-navtoggle]").forEach(function (button) {
      var panel = document.getElementById(button.getAttribute("aria-controls"));
      if (button === toggle) setNavOpen(button, button.getAttribute("aria-expanded") !== "true");
      else if (panel && !panel.contains(event.target)) setNavOpen(button, false);
    });
  });

  // --- the phone menu: a button (aria-expanded, aria-controls) that shows the team's sections under 900 px --
  function setNavOpen(button, open) {
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (panel) panel.classList.toggle("is-open", open);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("[data-navtoggle][aria-expanded=true]").forEach(function (button) {
      setNavOpen(button, false);
      button.focus();
    });
  });

  // --- confirmation: data-confirm="<question>" on a form or on its submit button ------------------------
  // Capturing on the document runs before htmx's own submit listener, which a declined form must not reach
  // (htmx sends its request even when the event's default is prevented).
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // --- countdowns: data-countdown="<seconds left at render>" [data-countdown-low="<seconds>"] ------------
  // The deadline is fixed when the element appears; a morph drops it with the server's fresh value, and
  // htmx:load arms it again. data-reveal-after="<seconds>" shows .when-unlocked (hides .when-locked) then.
  function arm(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-countdown], [data-reveal-after]").forEach(function (el) {
      if (el.dataset.deadline) return;
      var seconds = Number(el.getAttribute("data-countdown") || el.getAttribute("data-reveal-after"));
      el.dataset.deadline = String(now + seconds * 1000);
    });
  }

  // The same text as kit.formats.countdown_text: `2d 3:04:05`, `3:04:05`, `4:05`.
  function countdownText(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var clock = (h || d) ? h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0") : m + ":" + String(s).padStart(2, "0");
    // Translators: days and the clock of a countdown, as in "2d 3:04:05".
    return d ? interpolate(gettext("%(days)sd %(clock)s"), { days: d, clock: clock }, true) : clock;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown][data-deadline]").forEach(function (el) {
      // Rounded up, as kit.formats.countdown_text: 0:00 shows only once the deadline has passed.
      var left = Math.max(0, Math.ceil((Number(el.dataset.deadline) - now) / 1000));
      el.textContent = countdownText(left);
      el.classList.toggle("countdown-low", left < Number(el.getAttribute("data-countdown-low") || 0));
    });
    // A button that becomes allowed (cancel after the provider's lock); the server checks again anyway.
    document.querySelectorAll("[data-reveal-after][data-deadline]").forEach(function (el) {
      if (Number(el.dataset.deadline) > now) return;
      el.querySelectorAll(".when-locked").forEach(function (x) { x.hidden = true; });
      el.querySelectorAll(".when-unlocked").forEach(function (x) { x.hidden = false; });
    });
  }

  // --- what arrived on a live board: codeArrived (activations), rentSmsArrived (rentals) ----------------
  // kit.boards.announce sends the newest item's fields and all of them under `codes`. Each becomes a toast
  // (a click copies its code), the title counts them until the page is looked at again, and pages with a
  // sound toggle beep when it is on.
  var SOUND_KEY = "simdesk.codeSound";
  var baseTitle = document.title;
  var unseen = 0;

  function clearUnseen() {
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
    } catch (e) { /* sound is optional */ }
  }

  function arrived(event) {
    var detail = event.detail || {};
    var items = detail.codes && detail.codes.length ? detail.codes : [detail];
    items.forEach(function (item) {
      toast("+" + item.phone + ": " + (item.code || item.text || ""), item.code ? { className: "toast-code", copy: item.code, duration: 6000 } : { duration: 6000 });
    });
    unseen += items.length;
    document.title = "(" + unseen + ") " + baseTitle;
    var sound = document.querySelector("[data-sound-toggle]");
    if (sound && sound.checked) beep();
    notify(items);
  }

  // --- desktop notifications: data-notify-toggle, opt-in; permission is asked only when it is ticked ------
  // One notification per code (the service and the code; the number in the body), only while the tab is
  // not looked at: a focused page shows its toast already.
  var NOTIFY_KEY = "simdesk.codeNotify";

  function notifyOn() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "1";
  }

  function notify(items) {
    if (!notifyOn() || document.hasFocus()) return;
    items.forEach(function (item) {
      if (!item.code) return;
      try {
        var note = new Notification((item.service ? item.service + ": " : "") + item.code, {
          body: item.phone ? "+" + item.phone : "",
          tag: "simdesk-code-" + (item.phone || "") + "-" + item.code,
        });
        note.onclick = function () { window.focus(); note.close(); };
      } catch (e) { /* some browsers allow notifications only from a service worker */ }
    });
  }

  var notifyToggle = document.querySelector("[data-notify-toggle]");
  if (notifyToggle && "Notification" in window) {
    notifyToggle.closest("label").hidden = false;
    notifyToggle.checked = notifyOn();
    notifyToggle.addEventListener("change", function () {
      if (!notifyToggle.checked) {
        localStorage.setItem(NOTIFY_KEY, "0");
        return;
      }
      var settle = function (permission) {
        var granted = permission === "granted";
        localStorage.setItem(NOTIFY_KEY, granted ? "1" : "0");
        notifyToggle.checked = granted;
        if (permission === "denied") toast(notifyToggle.getAttribute("data-notify-blocked"), { level: "warning" });
      };
      if (Notification.permission === "default") {
        var asked = Notification.requestPermission(settle);
        if (asked && asked.then) asked.then(settle);
      } else {
        settle(Notification.permission);
      }
    });
  }

  document.body.addEventListener("codeArrived", arrived);
  document.body.addEventListener("rentSmsArrived", arrived);
  window.addEventListener("focus", clearUnseen);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) clearUnseen(); });

  var soundToggle = document.querySelector("[data-sound-toggle]");
  if (soundToggle) {
    soundToggle.checked = localStorage.getItem(SOUND_KEY) === "1";
    soundToggle.addEventListener("change", function () {
      localStorage.setItem(SOUND_KEY, soundToggle.checked ? "1" : "0");
      if (soundToggle.checked) beep();
    });
  }

  // --- catalogue pickers (providers.pickers): an <input list> of codes named in its <datalist> -----------
  // The chosen entry's name shows beside the field (what was typed may be a code or a name). A picker of
  // several services (data-picker="multiple") offers the entries for the part after the last comma.
  function pickerName(list, part) {
    var typed = part.trim().toLowerCase();
    if (!list || !typed) return "";
    for (var i = 0; i < list.options.length; i++) {
      var option = list.options[i];
      var code = (option.getAttribute("data-code") || option.value).toLowerCase();
      var label = option.label || option.textContent;
      if (typed === code || typed === label.toLowerCase()) return label === option.value ? "" : label;
    }
    return "";
  }

  function pickerUpdate(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var out = document.getElementById(input.id + "-name");
    if (!list || !out) return;
    if (input.getAttribute("data-picker") === "multiple") {
      var cut = input.value.lastIndexOf(",");
      var prefix = cut < 0 ? "" : input.value.slice(0, cut + 1) + " ";
      Array.prototype.forEach.call(list.options, function (option) {
        if (!option.hasAttribute("data-code")) option.setAttribute("data-code", option.value);
        option.value = prefix + option.getAttribute("data-code");
      });
      out.textContent = input.value.split(",").map(function (part) { return pickerName(list, part); }).filter(Boolean).join(" · ");
    } else {
      out.textContent = pickerName(list, input.value);
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-picker]")) pickerUpdate(event.target);
  });
  function pickersIn(root) {
    (root || document).querySelectorAll("input[data-picker]").forEach(pickerUpdate);
  }
  document.addEventListener("DOMContentLoaded", function () { pickersIn(document); });
  document.body.addEventListener("htmx:load", function (event) { pickersIn(event.target); });

  // --- morphing (hx-swap="morph:..."): a refresh keeps what the member did inside a board ---------------
  // Focus stays because morphing keeps the elements. A field the member typed into or ticked keeps its
  // value (hidden fields, such as purchase tokens, always take the server's). While a board refreshes
  // itself (GET), a <details> the member opened stays open with what it loaded; the answer to an action
  // (POST) shows the board as the server has it, with fresh tokens in its forms.
  var refreshing = false;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    refreshing = !!config && config.verb === "get";
  });
  if (window.Idiomorph) {
    Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, el) {
      if (name === "value" && (el.tagName === "INPUT" || el.tagName === "TEXTAREA") && el.type !== "hidden") {
        if (el.value !== el.defaultValue) return false;
      }
      if (name === "checked" && el.tagName === "INPUT" && el.checked !== el.defaultChecked) return false;
    };
    Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode) {
      if (refreshing && oldNode.nodeType === 1 && oldNode.tagName === "DETAILS" && oldNode.open) return false;
    };
  }

  // --- stacked tables on phones (.table-stack): each cell carries its column's heading as data-label --------
  function labelCells(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var tables = Array.prototype.slice.call(scope.querySelectorAll("table.table-stack"));
    var own = scope.closest && scope.closest("table.table-stack");
    if (own) tables.push(own);
    tables.forEach(function (table) {
      var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      if (!headings.length) return;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", headings[column] || "");
          column += cell.colSpan || 1;
        });
      });
    });
  }
  // After any swap, morphs included (a morph drops the labels the server's HTML does not carry).
  document.body.addEventListener("htmx:load", function () { labelCells(document); });
  document.body.addEventListener("htmx:afterSettle", function () { labelCells(document); });
  labelCells(document);

  // --- forms: the base URL field only matters for a custom provider -------------------------------------
  function syncProviderForm(root) {
    (root || document).querySelectorAll("[data-provider-form]").forEach(function (form) {
      var select = form.querySelector("select[name=profile]");
      var field = form.querySelector("#field-base_url");
      if (!select || !field) return;
      var update = function () { field.hidden = select.value !== "custom" && !field.classList.contains("has-error"); };
      select.addEventListener("change", update);
      update();
    });
  }

  document.body.addEventListener("htmx:load", function (event) {
    arm(event.target);
    tick();
    syncProviderForm(event.target);
  });
  arm(document);
  tick();
  syncProviderForm(document);
  setInterval(tick, 1000);
})();
