// Ticks each password rule as it is met. The server checks the same rules (accounts/password_validation.py).
(function () {
  "use strict";
  var rules = document.getElementById("password-rules");
  var input = document.getElementById("id_new_password1");
  if (!rules || !input) return;
  var checks = {
    length: function (v) { return v.length >= 12; },
    upper: function (v) { return /[A-ZÀ-ÖØ-Þ]/.test(v); },
    lower: function (v) { return /[a-zß-öø-ÿ]/.test(v); },
    digit: function (v) { return /\d/.test(v); },
    special: function (v) { return /[^\w\s]|_/.test(v); }
  };
  function update() {
    rules.querySelectorAll("li[data-rule]").forEach(function (item) {
      var met = checks[item.dataset.rule](input.value);
      item.classList.toggle("fr-rule--met", met);
      item.querySelector(".fr-rule-state").textContent = met ? " : respectée" : " : non respectée";
    });
  }
  input.addEventListener("input", update);
  update();
})();
