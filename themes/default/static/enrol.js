// Enrolment page: the options are in the page; create the passkey and post it.
"use strict";

(function () {
  const options = JSON.parse(document.getElementById("registration-options").textContent);
  window.portcullisCreatePasskey({
    form: document.getElementById("enrol-form"),
    button: document.getElementById("create-button"),
    loadOptions: async function () { return { options }; },
    alreadyHeld: "This device already holds a passkey for your account.",
  });
})();
