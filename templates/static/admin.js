// herald staff console: progressive enhancement only. Every page works
// without this script; with it, the editor previews as you type, embargo
// countdowns tick, and the alert progress bar fills by itself.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function text(el, s) {
    if (el) {
      el.textContent = s;
    }
  }

  // "in 2 h 5 min" countdowns of embargoed releases.
  function until(ms) {
    if (ms <= 0) {
      return "now (reload the page)";
    }
    var m = Math.round(ms / 60000);
    var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
    m = m % 60;
    if (d > 0) {
      return "in " + d + " d " + h + " h";
    }
    if (h > 0) {
      return "in " + h + " h " + m + " min";
    }
    return m > 0 ? "in " + m + " min" : "in less than a minute";
  }
  function countdowns() {
    var els = document.querySelectorAll("[data-countdown]");
    if (!els.length) {
      return;
    }
    function tick() {
      for (var i = 0; i < els.length; i++) {
        var t = Date.parse(els[i].getAttribute("datetime"));
        if (!isNaN(t)) {
          text(els[i], until(t - Date.now()));
        }
      }
    }
    tick();
    setInterval(tick, 30000);
  }

  // Live preview of the release page and the alert mail.
  function preview() {
    var form = document.getElementById("release-form");
    var section = document.getElementById("preview");
    if (!form || !section || !window.fetch || !window.URLSearchParams || !window.FormData) {
      return;
    }
    var url = form.getAttribute("data-preview");
    var csrf = form.querySelector("input[name=csrf]").value;
    var status = document.getElementById("preview-status");
    var errors = document.getElementById("preview-errors");
    var panes = document.getElementById("preview-panes");
    var timer = null, seq = 0;

    function run() {
      timer = null;
      var mine = ++seq;
      var data = new URLSearchParams(new FormData(form));
      data.delete("action");
      text(status, "Updating the preview…");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: data
      }).then(function (res) {
        return res.json().then(function (body) { return { ok: res.ok, body: body }; });
      }).then(function (r) {
        if (mine !== seq) {
          return;
        }
        errors.textContent = "";
        if (!r.ok) {
          var list = r.body.errors || [{ error: r.body.error || "The preview failed." }];
          for (var i = 0; i < list.length; i++) {
            var li = document.createElement("li");
            li.textContent = list[i].error;
            errors.appendChild(li);
          }
          text(status, "The preview needs a valid form: fix the problem below.");
          return;
        }
        section.removeAttribute("data-empty");
        panes.hidden = false;
        document.getElementById("preview-page").src = r.body.page;
        document.getElementById("preview-mail").src = r.body.mail;
        text(document.getElementById("preview-subject"), r.body.subject);
        text(document.getElementById("preview-text"), r.body.text);
        text(status, "Preview of the form as it is; nothing is saved.");
      }).catch(function () {
        if (mine === seq) {
          text(status, "The preview could not be updated. Is the server reachable?");
        }
      });
    }
    function later() {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(run, 700);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    var button = document.getElementById("preview-button");
    if (button) {
      button.addEventListener("click", function (e) {
        e.preventDefault();
        run();
      });
    }
    // An existing release, or a form sent back with errors, is previewed
    // at once.
    if (form.querySelector("input[name=id]").value !== "0" || document.getElementById("title").value !== "") {
      run();
    }
  }

  // The progress bar of an alert, polled until every message is done.
  function progress() {
    var box = document.getElementById("alert-progress");
    if (!box || !window.fetch) {
      return;
    }
    var url = box.getAttribute("data-status");
    var bar = document.getElementById("progress-bar");
    function show(p) {
      bar.value = p.percent;
      bar.textContent = p.percent + "%";
      text(document.getElementById("progress-percent"), p.percent + "%");
      text(document.getElementById("progress-summary"), p.summary);
      text(document.getElementById("c-recipients"), p.recipients);
      text(document.getElementById("c-sent"), p.sent);
      text(document.getElementById("c-queued"), p.queued);
      text(document.getElementById("c-failed"), p.failed);
      text(document.getElementById("c-dropped"), p.expired + p.cancelled);
      var body = document.getElementById("problems-body");
      body.textContent = "";
      for (var i = 0; i < p.problems.length; i++) {
        var tr = document.createElement("tr");
        var x = p.problems[i];
        var cells = [x.to, x.state, String(x.attempts), x.error];
        for (var j = 0; j < cells.length; j++) {
          var td = document.createElement("td");
          if (j === 2) {
            td.className = "num";
          }
          if (j === 3) {
            var code = document.createElement("code");
            code.className = "wrap";
            code.textContent = cells[j];
            td.appendChild(code);
          } else {
            td.textContent = cells[j];
          }
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      document.getElementById("problems").hidden = p.problems.length === 0;
      document.getElementById("problems-none").hidden = p.problems.length !== 0;
      if (p.done) {
        box.setAttribute("data-done", "1");
      }
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (res) {
          if (!res.ok) {
            throw new Error("status " + res.status);
          }
          return res.json();
        })
        .then(function (p) {
          show(p);
          if (!p.done) {
            setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          setTimeout(poll, 5000);
        });
    }
    if (!box.hasAttribute("data-done")) {
      poll();
    }
  }

  function start() {
    countdowns();
    preview();
    progress();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
