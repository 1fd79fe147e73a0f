// herald subscribe form: the anti-robot check (SPEC 11). On submit, it
// fetches a proof-of-work challenge in the ALTCHA format from
// GET /subscribe/challenge, finds the number n for which
// SHA-256(salt + n) is the challenge, puts base64 of
// {"algorithm","challenge","number","salt","signature"} in the hidden field
// altcha, and submits. Written for herald; no third-party code. Without
// this script the submit button stays disabled and the page says why.
(function () {
  "use strict";

  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];
  var W = new Array(64);

  function ror(x, n) { return (x >>> n) | (x << (32 - n)); }

  // sha256hex is the hex SHA-256 of an ASCII string (salts and numbers are).
  function sha256hex(s) {
    var len = s.length, blocks = ((len + 8) >> 6) + 1, words = new Array(blocks * 16), i, t;
    for (i = 0; i < words.length; i++) { words[i] = 0; }
    for (i = 0; i < len; i++) { words[i >> 2] |= (s.charCodeAt(i) & 0xff) << (24 - (i % 4) * 8); }
    words[len >> 2] |= 0x80 << (24 - (len % 4) * 8);
    words[words.length - 1] = len * 8;
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (var b = 0; b < words.length; b += 16) {
      for (t = 0; t < 16; t++) { W[t] = words[b + t]; }
      for (t = 16; t < 64; t++) {
        var w15 = W[t - 15], w2 = W[t - 2];
        W[t] = (W[t - 16] + (ror(w15, 7) ^ ror(w15, 18) ^ (w15 >>> 3)) + W[t - 7] + (ror(w2, 17) ^ ror(w2, 19) ^ (w2 >>> 10))) | 0;
      }
      var a = H[0], c1 = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (t = 0; t < 64; t++) {
        var t1 = (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
        var t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & c1) ^ (a & c) ^ (c1 & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = c1; c1 = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + c1) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    var out = "";
    for (i = 0; i < 8; i++) { out += ("0000000" + (H[i] >>> 0).toString(16)).slice(-8); }
    return out;
  }

  // solve finds the number of challenge c, a few thousand hashes at a time
  // so that the page stays responsive, and calls done(payload) with the
  // altcha field's value, or done("") when there is none.
  function solve(c, done) {
    var n = 0, max = Number(c.maxnumber) || 1000000;
    function payload(num) {
      return btoa(JSON.stringify({algorithm: c.algorithm, challenge: c.challenge, number: num, salt: c.salt, signature: c.signature}));
    }
    (function step() {
      for (var end = Math.min(n + 5000, max + 1); n < end; n++) {
        if (sha256hex(c.salt + n) === c.challenge) { done(payload(n)); return; }
      }
      if (n > max) { done(""); return; }
      setTimeout(step, 0);
    })();
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = {sha256hex: sha256hex, solve: solve};
  }
  if (typeof document === "undefined") { return; }

  var form = document.querySelector("form[data-pow]");
  if (!form) { return; }
  var button = form.querySelector("button[type=submit]");
  var field = form.querySelector("input[name=altcha]");
  var status = document.getElementById("pow-status");
  var noscript = document.getElementById("pow-noscript");
  if (noscript) { noscript.hidden = true; }
  button.disabled = false;
  var busy = false;
  form.addEventListener("submit", function (ev) {
    if (field.value) { return; }
    ev.preventDefault();
    if (busy) { return; }
    busy = true;
    button.disabled = true;
    status.textContent = form.getAttribute("data-pow-working");
    var fail = function () {
      busy = false;
      button.disabled = false;
      status.textContent = form.getAttribute("data-pow-failed");
    };
    fetch(form.getAttribute("data-pow"), {cache: "no-store", credentials: "omit"}).then(function (r) {
      if (!r.ok) { throw new Error("challenge: " + r.status); }
      return r.json();
    }).then(function (c) {
      solve(c, function (value) {
        if (!value) { fail(); return; }
        field.value = value;
        status.textContent = "";
        form.submit();
      });
    }).catch(fail);
  });
})();
