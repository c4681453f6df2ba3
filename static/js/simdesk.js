// simdesk: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var item = document.createElement("div");
    item.className = "toast";
    item.setAttribute("role", "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 4000);
  }

  // Server-sent toasts: `trigger_client_event(response, "toast", {"message": ...})`.
  document.addEventListener("toast", function (event) {
    toast(event.detail && event.detail.message);
  });

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.querySelector(copy.getAttribute("data-copy"));
      if (input) {
        input.select();
        (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject())
          .catch(function () { document.execCommand("copy"); })
          .finally(function () { toast(copy.getAttribute("data-copied") || "Copied"); });
      }
    }
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.parentElement.remove();
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  // The base URL field only matters for a custom provider.
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
  document.addEventListener("DOMContentLoaded", function () { syncProviderForm(document); });
  document.addEventListener("htmx:load", function (event) { syncProviderForm(event.target); });
})();
