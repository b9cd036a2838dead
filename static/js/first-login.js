// The first-login choice: served as an open, in-page <dialog> (readable without JavaScript), turned here
// into a modal one. showModal() makes the rest of the page inert and closes on Escape; Tab and Shift+Tab
// wrap inside the dialog, and focus returns to the page's heading when it closes.
(function () {
  "use strict";
  var dialog = document.querySelector("dialog[data-modal-on-load]");
  // Not when the user already closed the in-page version before this script ran.
  if (!dialog || !dialog.open || typeof dialog.showModal !== "function") {
    return;
  }
  var focusable = function () {
    return Array.prototype.filter.call(
      dialog.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]), [tabindex]:not([tabindex='-1'])"),
      function (element) { return element.offsetParent !== null; }
    );
  };
  dialog.close();
  dialog.showModal();
  var first = focusable()[0];
  if (first) {
    first.focus();
  }
  dialog.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") {
      return;
    }
    var elements = focusable();
    if (!elements.length) {
      return;
    }
    var firstElement = elements[0];
    var lastElement = elements[elements.length - 1];
    if (event.shiftKey && document.activeElement === firstElement) {
      event.preventDefault();
      lastElement.focus();
    } else if (!event.shiftKey && document.activeElement === lastElement) {
      event.preventDefault();
      firstElement.focus();
    }
  });
  dialog.addEventListener("close", function () {
    var heading = document.querySelector("main h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
})();
