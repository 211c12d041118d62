// Signs a critical request's pre-command in the browser with the user's own key (WebCrypto):
// the key file is read here and never sent; only the signature is posted. The signed bytes are
// the pre-command's UTF-8 bytes, given base64 in data-precommand (adapter/signing.py says why).
(function () {
  "use strict";

  function fromBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toBase64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return btoa(binary);
  }

  function pkcs8FromPem(pem) {
    if (pem.includes("BEGIN EC PRIVATE KEY")) {
      throw new Error("This is an SEC1 key: convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem`.");
    }
    if (pem.includes("ENCRYPTED PRIVATE KEY")) {
      throw new Error("This key is encrypted: decrypt it with `openssl pkcs8 -in key.pem` first.");
    }
    const match = pem.match(/-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/);
    if (!match) throw new Error("Not a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----).");
    return fromBase64(match[1].replace(/\s+/g, ""));
  }

  async function sign(form, file, status) {
    const der = pkcs8FromPem(await file.text());
    const key = await crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false,
      ["sign"]);
    const bytes = fromBase64(form.dataset.precommand);
    // WebCrypto's ECDSA signature is raw r||s (64 bytes); the portal accepts it as well as DER.
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, bytes);
    form.querySelector("#sign-signature").value = toBase64(signature);
    status.textContent = "Signed in your browser; sending the signature.";
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("sign-form");
    if (!form) return;
    const input = document.getElementById("sign-key");
    const status = document.getElementById("sign-status");
    document.getElementById("sign-with-key").addEventListener("click", function () {
      const file = input.files && input.files[0];
      if (!file) {
        status.textContent = "Choose your key file first.";
        return;
      }
      if (!window.crypto || !crypto.subtle) {
        status.textContent = "This browser cannot sign here (WebCrypto needs https); use scripts/sign_precommand.py.";
        return;
      }
      sign(form, file, status).catch(function (error) {
        status.textContent = "Could not sign: " + (error && error.message ? error.message : error);
      });
    });
  });
})();
