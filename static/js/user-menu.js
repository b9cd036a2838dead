// The menu under the user's name. Served as a <details> disclosure, which works without JavaScript; here it
// becomes a disclosure button (WAI-ARIA APG « Disclosure Navigation Menu »): a real <button> whose
// aria-expanded state screen readers announce, Escape closes it and gives focus back to the button, and a
// click or focus outside closes it. A links list under a button is not an ARIA `menu` (no arrow-key roles).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("details[data-disclosure-menu]"), function (details) {
    var summary = details.querySelector("summary");
    var list = details.querySelector("ul");
    if (!summary || !list || !list.id) {
      return;
    }
    var wrapper = document.createElement("div");
    wrapper.className = details.className;
    var button = document.createElement("button");
    button.type = "button";
    button.className = summary.className + " fr-menu__button";
    button.textContent = summary.textContent.trim();
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", list.id);
    list.hidden = true;
    wrapper.appendChild(button);
    wrapper.appendChild(list);
    details.replaceWith(wrapper);

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      list.hidden = !open;
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    wrapper.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        setOpen(false);
        button.focus();
      }
    });
    // Tabbing past the last link, or clicking elsewhere, leaves the menu: close it without moving focus.
    wrapper.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !wrapper.contains(event.relatedTarget)) {
        setOpen(false);
      }
    });
    document.addEventListener("click", function (event) {
      if (!wrapper.contains(event.target)) {
        setOpen(false);
      }
    });
  });
})();
