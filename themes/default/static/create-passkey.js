// The registration ceremony shared by the enrolment and account pages: options in, a
// credential (credential.toJSON()) posted back in the page's own form.
"use strict";

window.portcullisCreatePasskey = function (settings) {
  // settings: form, button, loadOptions() -> {handle?, options}, alreadyHeld (a sentence).
  const alertBox = document.getElementById("alert");

  function say(message) {
    alertBox.classList.add("alert-error");
    alertBox.textContent = message;
  }

  settings.button.addEventListener("click", async function () {
    if (!window.PublicKeyCredential ||
        typeof PublicKeyCredential.parseCreationOptionsFromJSON !== "function") {
      say("This browser cannot create passkeys. Please update it or use another browser.");
      return;
    }
    settings.button.disabled = true;
    try {
      const { handle, options } = await settings.loadOptions();
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
      const credential = await navigator.credentials.create({ publicKey });
      if (handle) {
        settings.form.elements.handle.value = handle;
      }
      settings.form.elements.credential.value = JSON.stringify(credential.toJSON());
      settings.form.submit();
    } catch (error) {
      if (error.name === "InvalidStateError") {
        say(settings.alreadyHeld);
      } else if (error.name === "NotAllowedError") {
        say("No passkey was created: the request was cancelled or timed out. Try again.");
      } else {
        say(error.message || "The passkey could not be created. Please try again.");
      }
      settings.button.disabled = false;
      settings.button.focus();
    }
  });
};
