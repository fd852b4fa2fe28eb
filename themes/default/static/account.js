// Account page: add a passkey (options fetched with the CSRF header), confirm removals.
"use strict";

(function () {
  const form = document.getElementById("add-form");
  const button = document.getElementById("add-button");
  for (const removal of document.querySelectorAll("form.remove-form")) {
    removal.addEventListener("submit", function (event) {
      if (!window.confirm(removal.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }

  window.portcullisCreatePasskey({
    form,
    button,
    loadOptions: async function () {
      const response = await fetch(form.dataset.optionsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": form.elements.csrf.value,
        },
        body: "{}",
      });
      const body = await response.json();
      if (!response.ok) {
        throw new Error(body.message + " (error id " + body.error_id + ")");
      }
      return body;
    },
    alreadyHeld: "This device already holds one of your passkeys.",
  });
})();
