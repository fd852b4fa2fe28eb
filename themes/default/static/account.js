// Account page: add a passkey (options fetched with the CSRF header), confirm removals.
"use strict";

(function () {
  const form = document.getElementById("add-form");
  const button = document.getElementById("add-button");
  const alertBox = document.getElementById("alert");

  function say(message) {
    alertBox.classList.add("alert-error");
    alertBox.textContent = message;
  }

  for (const removal of document.querySelectorAll("form.remove-form")) {
    removal.addEventListener("submit", function (event) {
      if (!window.confirm(removal.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }

  button.addEventListener("click", async function () {
    if (!window.PublicKeyCredential ||
        typeof PublicKeyCredential.parseCreationOptionsFromJSON !== "function") {
      say("This browser cannot create passkeys. Please update it or use another browser.");
      return;
    }
    button.disabled = true;
    try {
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
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(body.options);
      const credential = await navigator.credentials.create({ publicKey });
      form.elements.handle.value = body.handle;
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (error) {
      if (error.name === "InvalidStateError") {
        say("This device already holds one of your passkeys.");
      } else if (error.name === "NotAllowedError") {
        say("No passkey was created: the request was cancelled or timed out. Try again.");
      } else {
        say(error.message || "The passkey could not be created. Please try again.");
      }
      button.disabled = false;
      button.focus();
    }
  });
})();
