/* Tandem — small progressive enhancements. Everything works without this file.
 * - CSRF for htmx is sent via hx-headers on <body> (see templates/base.html).
 * - Account menu (<details class="account-menu">): close on Escape and on a click outside.
 * - Mobile nav popover: close after following an in-page link.
 * - Sign-up: disable the organisation field while "Find work as a freelancer" is selected
 *   (CSS already hides it), so it is neither validated nor sent.
 */
(function () {
  "use strict";

  function closeMenus(except) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    var inside = event.target.closest && event.target.closest("details.account-menu");
    closeMenus(inside);

    var link = event.target.closest && event.target.closest(".nav-panel a[href*='#']");
    var panel = link && link.closest("[popover]");
    if (panel && typeof panel.hidePopover === "function" && panel.matches(":popover-open")) {
      panel.hidePopover();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.account-menu[open]");
    if (open) {
      open.removeAttribute("open");
      var summary = open.querySelector("summary");
      if (summary) summary.focus();
    }
  });

  function syncSignupForm(form) {
    var selected = form.querySelector("input[name='intent']:checked");
    var orgInput = form.querySelector("[name='organization_name']");
    if (!orgInput) return;
    var isFreelancer = !!selected && selected.value === "work";
    orgInput.disabled = isFreelancer;
  }

  function initSignup() {
    document.querySelectorAll("form[data-signup-form]").forEach(function (form) {
      syncSignupForm(form);
      form.addEventListener("change", function (event) {
        if (event.target && event.target.name === "intent") syncSignupForm(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initSignup);
  } else {
    initSignup();
  }
})();

/* htmx 2 does not swap 4xx/5xx responses by default. The server sends errors as a small alert retargeted at
 * #flash (HX-Retarget), so let error responses swap; 204 still means "nothing to swap". */
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  window.htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];
});
