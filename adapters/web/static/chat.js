// activation-bot chat page: sends without reloading and shows what the bot
// says as it arrives (Server-Sent Events). Without JavaScript the forms
// post and the page reloads: everything works, only less smoothly.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var say = document.getElementById("say");
  var answers = document.getElementById("answers");
  if (!log || !say || !window.fetch || !window.EventSource) { return; }
  var after = Number(log.dataset.after || 0);
  var csrf = say.querySelector("input[name=csrf]").value;
  var input = document.getElementById("text");
  var linkRe = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)]|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;

  function eventId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // rich fills el with text, its links clickable: built from text nodes,
  // never from HTML, so nothing a message holds can run.
  function rich(el, text) {
    text.split("\n").forEach(function (part, i) {
      if (i > 0) { el.appendChild(document.createElement("br")); }
      var last = 0;
      part.replace(linkRe, function (m, _g, at) {
        el.appendChild(document.createTextNode(part.slice(last, at)));
        var a = document.createElement("a");
        a.href = /^https?:\/\//.test(m) ? m : "mailto:" + m;
        a.rel = "noopener noreferrer";
        a.textContent = m;
        el.appendChild(a);
        last = at + m.length;
        return m;
      });
      el.appendChild(document.createTextNode(part.slice(last)));
    });
  }

  var pending = []; // buttons of the bot's messages since the student spoke
  function addLine(m) {
    if (document.getElementById("m" + m.id)) { return; }
    var intro = log.querySelector(".intro");
    if (intro) { intro.remove(); }
    ["handoff", "link"].forEach(function (id) {
      var form = document.getElementById(id);
      if (form) { form.hidden = false; }
    });
    var li = document.createElement("li");
    li.className = "line " + (m.in ? "in" : "out");
    li.id = "m" + m.id;
    var who = document.createElement("span");
    who.className = "who visually-hidden";
    who.textContent = (m.in ? log.dataset.you : log.dataset.bot) + ":";
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    rich(bubble, m.text);
    var time = document.createElement("time");
    time.textContent = m.time;
    li.append(who, bubble, time);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    pending = m.in ? [] : pending.concat(m.buttons || []);
    showButtons();
  }

  function showButtons() {
    answers.querySelectorAll("button").forEach(function (b) { b.remove(); });
    pending.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "submit"; btn.name = "button"; btn.value = b.id; btn.textContent = b.label;
      answers.appendChild(btn);
    });
  }

  function progress(p) {
    var list = document.getElementById("checklist");
    list.replaceChildren();
    p.items.forEach(function (it) {
      var li = document.createElement("li");
      li.className = "state-" + it.State;
      li.dataset.account = it.Account;
      li.textContent = it.Text;
      list.appendChild(li);
    });
    var done = document.getElementById("all-done");
    done.textContent = p.all_done || "";
    done.hidden = !p.all_done;
  }

  function post(fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf", csrf);
    body.set("event", eventId());
    return fetch("/say", { method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" } }).then(function (r) {
      return r.text().then(function (body) {
        var j = {};
        try { j = JSON.parse(body); } catch (e) { /* a proxy's or server's error page */ }
        if (!r.ok) { throw new Error(j.error || log.dataset.error); }
        connect();
      });
    }, function () { throw new Error(log.dataset.error); });
  }

  function notice(text) {
    var p = document.querySelector(".notice") || document.createElement("p");
    p.className = "notice"; p.setAttribute("role", "status"); p.textContent = text;
    log.before(p);
  }

  say.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    post({ text: text }).catch(function (err) { input.value = text; notice(err.message); });
  });
  answers.addEventListener("submit", function (e) {
    e.preventDefault();
    var b = e.submitter;
    if (!b) { return; }
    answers.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
    var fields = {};
    fields[b.name] = b.value;
    post(fields)
      .catch(function (err) { showButtons(); notice(err.message); });
    input.focus();
  });

  // Link another device asks for a code like any message: the code comes
  // back as the bot's answer.
  var link = document.getElementById("link");
  if (link) {
    link.addEventListener("submit", function (e) {
      e.preventDefault();
      post({ link: "1" }).catch(function (err) { notice(err.message); });
    });
  }

  var source = null;
  function connect() {
    if (source) { return; }
    source = new EventSource("/events?after=" + after);
    source.addEventListener("line", function (e) {
      var m = JSON.parse(e.data);
      after = Math.max(after, m.id);
      addLine(m);
    });
    source.addEventListener("progress", function (e) { progress(JSON.parse(e.data)); });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        document.getElementById("live-off").hidden = false;
      }
    };
  }
  if (log.dataset.live) { connect(); }
  // The buttons the page was rendered with stay until the bot says more.
  pending = Array.prototype.map.call(answers.querySelectorAll("button[name=button]"),
    function (b) { return { id: b.value, label: b.textContent }; });
  log.scrollTop = log.scrollHeight;
})();
