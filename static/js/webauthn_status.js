// allauth's WebAuthn script reports a failed key ceremony (cancelled, timed out, a key the site
// does not know) only on the console. Say it on the page instead, in the status region that
// templates/mfa/webauthn/snippets/status.html puts next to the key button (role="alert").
(function () {
  'use strict'
  var MESSAGES = {
    NotAllowedError: 'The security key did not answer, or the request was cancelled. Try again.',
    InvalidStateError: 'This security key is already registered for your account.',
    SecurityError: 'Security keys only work on the portal\u2019s own address (https, or http://localhost when testing).',
    NotSupportedError: 'This browser or key does not support what the portal asked for.'
  }
  document.addEventListener('allauth.error', function (event) {
    var region = document.getElementById('webauthn-status')
    if (!region) return
    event.preventDefault()
    var name = event.detail && event.detail.exception && event.detail.exception.name
    region.textContent = MESSAGES[name] || 'The security key could not be used. Try again.'
    region.hidden = false
  })
})()
