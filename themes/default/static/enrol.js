// Enrolment page: create a passkey (parseCreationOptionsFromJSON, toJSON), then post it.
"use strict";

(function () {
  const form = document.getElementById("enrol-form");
  const button = document.getElementById("create-button");
  const alertBox = document.getElementById("alert");
  const options = JSON.parse(document.getElementById("registration-options").textContent);

  function say(message) {
    alertBox.classList.add("alert-error");
    alertBox.textContent = message;
  }

  button.addEventListener("click", async function () {
    if (!window.PublicKeyCredential ||
        typeof PublicKeyCredential.parseCreationOptionsFromJSON !== "function") {
      say("This browser cannot create passkeys. Please update it or use another browser.");
      return;
    }
    button.disabled = true;
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
      const credential = await navigator.credentials.create({ publicKey });
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (error) {
      if (error.name === "InvalidStateError") {
        say("This device already holds a passkey for your account.");
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
