// Passkeys need the browser's WebAuthn API, so this is the one script
// Latchkey serves. It runs on the pages that offer a passkey and nowhere
// else; everything else on them works without JavaScript.
//
// A form marked data-passkey="get" (sign in) or "create" (add a passkey)
// carries the server's options in data-options. On submit the browser's
// ceremony runs, its answer goes into the form's hidden `credential` field,
// and the form is posted as usual.
(function () {
  'use strict';
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBuffer(b64url) {
    var b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (c) { return { id: toBuffer(c.id), type: c.type || 'public-key', transports: c.transports }; });
  }

  // The credential as @simplewebauthn/server reads it (RegistrationResponseJSON / AuthenticationResponseJSON).
  function toJSON(cred, response) {
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: response,
    };
  }

  function create(options) {
    options.challenge = toBuffer(options.challenge);
    options.user.id = toBuffer(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return navigator.credentials.create({ publicKey: options }).then(function (cred) {
      var r = cred.response;
      return toJSON(cred, {
        clientDataJSON: toB64url(r.clientDataJSON),
        attestationObject: toB64url(r.attestationObject),
        transports: typeof r.getTransports === 'function' ? r.getTransports() : undefined,
      });
    });
  }

  function get(options) {
    options.challenge = toBuffer(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return navigator.credentials.get({ publicKey: options }).then(function (cred) {
      var r = cred.response;
      return toJSON(cred, {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : undefined,
      });
    });
  }

  var forms = document.querySelectorAll('form[data-passkey]');
  Array.prototype.forEach.call(forms, function (form) {
    var problem = form.querySelector('[data-passkey-problem]');
    form.hidden = false;
    var fallback = document.querySelector('[data-passkey-needs-script]');
    if (fallback) fallback.hidden = true;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (problem) problem.hidden = true;
      var options = JSON.parse(form.getAttribute('data-options'));
      var ceremony = form.getAttribute('data-passkey') === 'create' ? create(options) : get(options);
      ceremony.then(function (credential) {
        form.elements.credential.value = JSON.stringify(credential);
        form.submit();
      }, function (err) {
        if (!problem) return;
        // The words come from the page, in its language (data-msg-*).
        problem.textContent = err && err.name === 'NotAllowedError'
          ? form.getAttribute('data-msg-cancelled')
          : form.getAttribute('data-msg-failed').replace('{reason}', (err && err.name) || 'error');
        problem.hidden = false;
      });
    });
  });
})();
