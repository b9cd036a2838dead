/* The structure picker as an ARIA 1.2 combobox (list autocomplete, no automatic selection).
   htmx fetches the suggestions into the listbox as the user types (structures/pickers.py); this script
   only handles the pattern's keyboard and screen-reader behaviour:
   Down/Up move through the suggestions (aria-activedescendant, focus stays in the field), Enter or a click
   chooses one, Escape closes the list (or clears the field when it is closed), Alt+Down opens it.
   Choosing fires a "combobox:chosen" event on the field, which pages use to refresh what depends on it
   (not "change", which the browser fires again on blur, e.g. when the user clicks the submit button).
   A form whose part is being refreshed waits for the refresh before it is sent, since the fields being
   refreshed are locked (disabled) meanwhile and would not be sent.
   Without JavaScript the field is a plain text input resolved by the server. */
(function () {
  "use strict";

  function parts(input) {
    var box = input.closest("[data-combobox]");
    return {
      list: document.getElementById(input.getAttribute("aria-controls")),
      status: box.querySelector("[data-combobox-status]"),
    };
  }

  function options(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
  }

  function setActive(input, option) {
    var list = parts(input).list;
    options(list).forEach(function (item) {
      var active = item === option;
      item.setAttribute("aria-selected", active ? "true" : "false");
      item.classList.toggle("fr-combobox__option--active", active);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open(input) {
    var list = parts(input).list;
    if (!options(list).length) {
      return false;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    return true;
  }

  function close(input) {
    var list = parts(input).list;
    if (list) {
      list.hidden = true;
    }
    input.setAttribute("aria-expanded", "false");
    setActive(input, null);
  }

  function choose(input, option) {
    input.value = option.getAttribute("data-value");
    close(input);
    parts(input).status.textContent = "Structure choisie : " + input.value;
    input.dispatchEvent(new CustomEvent("combobox:chosen", { bubbles: true }));
  }

  function current(input) {
    var id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target.closest && event.target.closest("[data-combobox-input]");
    if (!input) {
      return;
    }
    var list = parts(input).list;
    var items = options(list);
    var active = current(input);
    var index = items.indexOf(active);
    var expanded = input.getAttribute("aria-expanded") === "true";
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!expanded && !open(input)) {
        return;
      }
      event.preventDefault();
      if (event.altKey) {
        return;
      }
      var next = event.key === "ArrowDown" ? index + 1 : index - 1;
      if (next >= items.length) {
        next = 0;
      } else if (next < 0) {
        next = items.length - 1;
      }
      setActive(input, items[next]);
    } else if (event.key === "Enter" && expanded && active) {
      // Choosing a suggestion must not submit the form.
      event.preventDefault();
      choose(input, active);
    } else if (event.key === "Escape") {
      if (expanded) {
        event.preventDefault();
        close(input);
      } else if (input.value) {
        event.preventDefault();
        input.value = "";
      }
    } else if (event.key === "Tab") {
      close(input);
    }
  });

  // A click on a suggestion: mousedown would blur the field first and close the list.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest(".fr-combobox__list [role=option]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest(".fr-combobox__list [role=option]");
    if (!option) {
      return;
    }
    var input = document.querySelector("[aria-controls='" + option.parentNode.id + "']");
    if (input) {
      choose(input, option);
      input.focus();
    }
  });

  document.addEventListener(
    "blur",
    function (event) {
      if (event.target.matches && event.target.matches("[data-combobox-input]")) {
        close(event.target);
      }
    },
    true
  );

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.querySelector(".htmx-request[data-refresh]")) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    document.addEventListener(
      "htmx:afterSettle",
      function () {
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      },
      { once: true }
    );
  });

  // htmx replaced the listbox with fresh suggestions: show them and say how many there are.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.target;
    if (!swapped || !swapped.matches || !swapped.matches(".fr-combobox__list")) {
      return;
    }
    // An outerHTML swap: the event names the replaced element; the new one has its id.
    var list = document.getElementById(swapped.id);
    var input = document.querySelector("[aria-controls='" + list.id + "']");
    if (!input) {
      return;
    }
    var shown = options(list).length;
    var total = parseInt(list.getAttribute("data-total") || "0", 10);
    var message;
    if (!input.value.trim()) {
      message = "";
    } else if (!shown) {
      message = "Aucune structure ne correspond.";
    } else if (total > shown) {
      message =
        total + " structures correspondent, les " + shown + " premières sont proposées : précisez la recherche. " +
        "Flèches haut et bas pour parcourir, Entrée pour choisir.";
    } else {
      message =
        shown + (shown > 1 ? " structures proposées" : " structure proposée") +
        ". Flèches haut et bas pour parcourir, Entrée pour choisir.";
    }
    parts(input).status.textContent = message;
    setActive(input, null);
    if (document.activeElement === input && shown) {
      open(input);
    } else {
      close(input);
    }
  });
})();
