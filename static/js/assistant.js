/* Claudia, the virtual assistant: the icon on every page opens the conversation in a modal <dialog>
   (focus kept inside, Esc closes, focus returns to the icon). Without JavaScript the icon is a plain link
   to the same conversation as a page. Each step is fetched from the server as an HTML fragment. */
(function () {
  "use strict";
  var dialog = document.getElementById("claudia");
  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch) {
    return;
  }
  var body = dialog.querySelector("[data-assistant-body]");

  function show(html) {
    body.innerHTML = html;
    var heading = body.querySelector("h2");
    if (heading) {
      heading.focus();
    }
  }

  function load(url, options, fallback) {
    var request = Object.assign({ credentials: "same-origin", headers: { "X-Assistant": "dialog" } }, options);
    fetch(url, request)
      .then(function (response) {
        if (!response.ok && response.status !== 400) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(show)
      .catch(function () {
        window.location.href = fallback || url;
      });
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-assistant-open]");
    if (opener) {
      event.preventDefault();
      body.textContent = "Chargement…";
      dialog.showModal();
      load(opener.href);
      return;
    }
    if (!dialog.contains(event.target)) {
      return;
    }
    if (event.target.closest("[data-assistant-close]")) {
      dialog.close();
      return;
    }
    var step = event.target.closest("[data-assistant-nav]");
    if (step) {
      event.preventDefault();
      load(step.href);
    }
  });

  // The page behind a modal dialog is inert; Tab also wraps around inside it instead of leaving the page.
  dialog.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") {
      return;
    }
    var focusable = Array.prototype.filter.call(
      dialog.querySelectorAll("a[href], button:not([disabled]), input:not([type=hidden]), [tabindex='0']"),
      function (element) {
        return element.getClientRects().length > 0;
      }
    );
    if (!focusable.length) {
      return;
    }
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  dialog.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-assistant-form]");
    if (!form) {
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    load(form.action, { method: "POST", body: data }, window.location.href);
  });
})();
