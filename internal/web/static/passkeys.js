// Passkeys (WebAuthn) for Rampart's pages: a same-origin file, so the
// pages' CSP (script-src 'self', no inline script) holds.
//
// Every form with data-passkey="create" (add a passkey) or "get" (sign in
// with one, or a second factor) is hidden in the page and shown here, when
// the browser has WebAuthn. Submitting it:
//   1. POSTs the form's fields (its CSRF token among them) to the URL in
//      data-passkey-options, which answers the options as JSON;
//   2. asks the browser (navigator.credentials.create or .get);
//   3. puts the answer, as JSON, in the form's "credential" field and
//      submits the form for real: the server's answer is a page or a
//      redirect, as for any form.
// An error is shown in the form's [data-passkey-error] element.
(function () {
  "use strict";

  function fromB64url(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeList(list) {
    (list || []).forEach(function (c) { c.id = fromB64url(c.id); });
  }

  // The server's options use base64url for binary values; the browser wants buffers.
  function creationOptions(pk) {
    pk.challenge = fromB64url(pk.challenge);
    pk.user.id = fromB64url(pk.user.id);
    decodeList(pk.excludeCredentials);
    return pk;
  }

  function requestOptions(pk) {
    pk.challenge = fromB64url(pk.challenge);
    decodeList(pk.allowCredentials);
    return pk;
  }

  // credentialJSON is the browser's PublicKeyCredential as the server reads it.
  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }

  function describe(e) {
    if (e && e.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
    if (e && e.name === "InvalidStateError") return "This device or key already holds a passkey for your account.";
    if (e && e.name === "SecurityError") return "This browser refused the passkey request for this site.";
    return (e && e.message) || "The passkey request failed.";
  }

  function run(form) {
    var error = form.querySelector("[data-passkey-error]");
    var button = form.querySelector("button[type=submit]");
    var credential = form.querySelector("input[name=credential]");
    var create = form.getAttribute("data-passkey") === "create";
    if (error) error.hidden = true;
    if (button) button.disabled = true;
    var fields = new URLSearchParams(new FormData(form));
    fields.delete("credential");
    fetch(form.getAttribute("data-passkey-options"), {
      method: "POST",
      body: fields,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().then(function (body) {
        if (!resp.ok) throw new Error(body.error || "The server refused the request.");
        return create
          ? navigator.credentials.create({ publicKey: creationOptions(body.publicKey) })
          : navigator.credentials.get({ publicKey: requestOptions(body.publicKey) });
      });
    }).then(function (cred) {
      credential.value = JSON.stringify(credentialJSON(cred));
      form.submit(); // no submit event: this is the real submission
    }).catch(function (e) {
      if (error) {
        error.textContent = describe(e);
        error.hidden = false;
      }
      if (button) button.disabled = false;
    });
  }

  function init() {
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) return; // the forms stay hidden
    var forms = document.querySelectorAll("form[data-passkey]");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      form.hidden = false;
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        run(ev.currentTarget);
      });
    }
  }

  init();
})();
