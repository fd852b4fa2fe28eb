// Sign-in pages: the passkey ceremony in the browser, then an ordinary form POST.
//
// The server's options arrive as JSON (a data block in the page, or from a fetch); the
// browser parses them with PublicKeyCredential.parseRequestOptionsFromJSON and serialises
// the answer with credential.toJSON(), so no base64url code lives here.
"use strict";

(function () {
  const alertBox = document.getElementById("alert");

  function say(message) {
    alertBox.classList.add("alert-error");
    alertBox.textContent = message;
  }

  function supported() {
    return Boolean(window.PublicKeyCredential) &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
  }

  function explain(error) {
    if (error && error.name === "AbortError") {
      return;
    }
    if (error && error.name === "NotAllowedError") {
      say("No passkey was used: the request was cancelled or timed out, or this device " +
          "has no passkey for this account. Try again, or use your phone or security key.");
    } else if (error && error.name === "SecurityError") {
      say("This page's address does not match the sign-in service: passkeys cannot be used.");
    } else {
      say((error && error.message) || "The passkey could not be used. Please try again.");
    }
  }

  async function signIn(form, handle, options, extra) {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    const credential = await navigator.credentials.get(Object.assign({ publicKey }, extra));
    form.elements.handle.value = handle;
    form.elements.credential.value = JSON.stringify(credential.toJSON());
    form.submit();
  }

  async function fetchOptions(form) {
    const response = await fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ txn: form.elements.txn.value }),
    });
    const body = await response.json();
    if (!response.ok) {
      throw new Error(body.message + " (error id " + body.error_id + ")");
    }
    return body;
  }

  // The identifier page: a discoverable passkey by button, or through autofill.
  const discoverable = document.getElementById("discoverable-form");
  if (discoverable && supported()) {
    const button = document.getElementById("discoverable-button");
    let autofill = null;
    document.getElementById("passkey-choice").hidden = false;

    button.addEventListener("click", async function () {
      if (autofill) {
        autofill.abort();
        autofill = null;
      }
      button.disabled = true;
      try {
        const { handle, options } = await fetchOptions(discoverable);
        await signIn(discoverable, handle, options, {});
      } catch (error) {
        explain(error);
        button.disabled = false;
      }
    });

    if (typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
      PublicKeyCredential.isConditionalMediationAvailable().then(async function (available) {
        if (!available) {
          return;
        }
        autofill = new AbortController();
        const signal = autofill.signal;
        try {
          const { handle, options } = await fetchOptions(discoverable);
          if (!signal.aborted) {
            await signIn(discoverable, handle, options, { mediation: "conditional", signal });
          }
        } catch (error) {
          if (!signal.aborted) {
            explain(error);
          }
        }
      });
    }
  }

  // The passkey page: the person's credentials, offered at once and again by button.
  const passkeyForm = document.getElementById("passkey-form");
  if (passkeyForm) {
    const button = document.getElementById("passkey-button");
    const options = JSON.parse(document.getElementById("passkey-options").textContent);
    const start = async function () {
      if (!supported()) {
        say("This browser cannot use passkeys. Please update it or use another browser.");
        return;
      }
      button.disabled = true;
      try {
        await signIn(passkeyForm, passkeyForm.elements.handle.value, options, {});
      } catch (error) {
        explain(error);
        button.disabled = false;
        button.focus();
      }
    };
    button.addEventListener("click", start);
    start();
  }
})();
