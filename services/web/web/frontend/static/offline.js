/* The phone's outbox: nothing logged without a network is lost.
 *
 * A form marked data-queue (a contact, an undo, a meeting, a correction) is not posted by the
 * browser: its fields go into a queue in localStorage first, each entry with an
 * Idempotency-Key made here (the form's "key"), then the queue is sent, now or when the
 * network returns (the "online" event, a timer, the next page). The server answers JSON
 * (web/frontend/outbox.py): stored, refused for a reason (shown beside the entry until the
 * user discards it), or not decided now (kept, tried again). An entry leaves the queue only
 * when the server stored it, so a send whose answer was lost is sent again with the same key
 * and the contacts service stores it once.
 *
 * Without this script (or without localStorage) the forms post as plain HTML forms.
 * The service worker (/sw.js) keeps the pages and their assets, so a reload without a
 * network still shows the page and what waits to be sent.
 */
(function () {
  "use strict";

  var STORE = "sanlian.outbox";
  var RETRY_MS = 15000;

  function storageWorks() {
    try {
      localStorage.setItem(STORE + ".probe", "1");
      localStorage.removeItem(STORE + ".probe");
      return true;
    } catch (e) {
      return false;
    }
  }
  if (!storageWorks() || !window.fetch || !window.URLSearchParams) {
    return; // the forms post as they always did
  }

  if ("serviceWorker" in navigator && document.getElementById("outbox")) {
    navigator.serviceWorker.register("/sw.js").catch(function () {
      /* no worker (an old browser, a private window): the queue still works on this page */
    });
  }

  var box = document.getElementById("outbox");
  var words = box ? box.dataset : {};
  var madeHere = {}; // entries made on this page: their answer may move the page on
  var problem = null; // why the last send stopped: "offline", "retry" or "signin"
  var sending = false;
  var again = false; // something was queued while a send was under way

  function newKey() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    // crypto.randomUUID needs a secure context; an RFC 4122 version 4 UUID all the same.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function load() {
    try {
      var entries = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(entries) ? entries : [];
    } catch (e) {
      return [];
    }
  }

  function save(entries) {
    localStorage.setItem(STORE, JSON.stringify(entries));
  }

  // Every change re-reads the queue: another tab may have changed it meanwhile.
  function change(id, how) {
    save(load().map(function (e) { return e.id === id ? how(e) : e; }).filter(Boolean));
  }

  function fill(text, values) {
    return (text || "").replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function labelOf(form, submitter, fields) {
    var parts = [form.dataset.label || ""];
    if (form.dataset.kind === "meeting") {
      var n = fields.filter(function (f) { return f[0] === "lower_member_ids"; }).length;
      parts = [fill(words.meeting, { n: n })];
    }
    if (submitter && submitter.name) {
      parts.push(submitter.textContent.trim());
    }
    fields.forEach(function (f) {
      if (f[0] === "contacted_on") parts.push(f[1]);
    });
    return parts.filter(Boolean).join(" · ");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-queue")) {
      return;
    }
    event.preventDefault();
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      // The token is the session's: the one current when the entry is sent goes with it.
      if (name !== "csrf_token" && name !== "key" && typeof value === "string") {
        fields.push([name, value]);
      }
    });
    var submitter = event.submitter;
    if (submitter && submitter.name) {
      fields.push([submitter.name, submitter.value]);
    }
    var lower = fields.filter(function (f) { return f[0] === "lower_member_id"; })[0];
    var entry = {
      id: newKey(),
      member: words.member || null,
      action: form.getAttribute("action"),
      fields: fields,
      label: labelOf(form, submitter, fields),
      row: lower ? lower[1] : null,
      state: "pending",
      made: Date.now()
    };
    save(load().concat([entry]));
    madeHere[entry.id] = true;
    form.reset();
    var details = form.closest("details");
    if (details && form.classList.contains("quick")) details.open = false;
    show();
    send();
  });

  function mine(entries, member) {
    return entries.filter(function (e) { return !e.member || !member || e.member === member; });
  }

  function show() {
    var member = words.member;
    var entries = mine(load(), member);
    var waiting = entries.filter(function (e) { return e.state !== "refused"; });
    var refused = entries.filter(function (e) { return e.state === "refused"; });
    document.querySelectorAll("[data-pending-for]").forEach(function (p) {
      var n = waiting.filter(function (e) { return e.row === p.dataset.pendingFor; }).length;
      p.hidden = n === 0;
      p.textContent = n ? words.rowPending + " · " + n : "";
    });
    if (!box) return;
    box.textContent = "";
    box.hidden = entries.length === 0;
    if (!entries.length) return;
    if (waiting.length) {
      var head = document.createElement("p");
      head.className = "outbox-count";
      head.textContent = fill(words.pending, { n: waiting.length });
      box.appendChild(head);
      var why = document.createElement("p");
      why.className = "hint";
      why.textContent = sending ? words.sending :
        problem === "signin" ? words.signin :
        problem === "retry" ? words.retry : words.offline;
      box.appendChild(why);
      if (problem === "signin") {
        var link = document.createElement("a");
        link.href = "/login?next=" + encodeURIComponent(location.pathname);
        link.textContent = words.signinLink;
        box.appendChild(link);
      }
    }
    var list = document.createElement("ul");
    entries.forEach(function (e) {
      var item = document.createElement("li");
      item.dataset.entry = e.id;
      item.dataset.state = e.state;
      var label = document.createElement("span");
      label.textContent = e.label;
      item.appendChild(label);
      if (e.state === "refused") {
        var reason = document.createElement("p");
        reason.className = "field-error";
        reason.textContent = fill(words.refused, { reason: e.reason });
        item.appendChild(reason);
        var discard = document.createElement("button");
        discard.type = "button";
        discard.textContent = words.discard;
        discard.addEventListener("click", function () {
          change(e.id, function () { return null; });
          show();
        });
        item.appendChild(discard);
        // A refusal may pass (a link the contacts service had not heard of yet): once more.
        var retry = document.createElement("button");
        retry.type = "button";
        retry.textContent = words.tryAgain;
        retry.addEventListener("click", function () {
          change(e.id, function (x) { x.state = "pending"; delete x.reason; return x; });
          send();
        });
        item.appendChild(retry);
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    if (waiting.length && !sending) {
      var now = document.createElement("button");
      now.type = "button";
      now.textContent = words.sendNow;
      now.addEventListener("click", send);
      box.appendChild(now);
    }
  }

  function redraw(rows) {
    Object.keys(rows || {}).forEach(function (id) {
      var old = document.getElementById(id);
      if (!old) return;
      var template = document.createElement("template");
      template.innerHTML = rows[id]; // the server's own page fragment, escaped there
      var fresh = template.content.firstElementChild;
      if (fresh) old.replaceWith(fresh);
    });
    armUndo();
  }

  var STOP = {};

  function post(entry, csrf) {
    var body = new URLSearchParams();
    entry.fields.forEach(function (f) { body.append(f[0], f[1]); });
    body.append("csrf_token", csrf);
    body.append("key", entry.id);
    return fetch(entry.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.type === "opaqueredirect") {
        problem = "signin"; // the session ended: sent after the next sign-in
        throw STOP;
      }
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        problem = "retry";
        throw STOP;
      }
      var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
      if (!json) {
        return { ok: false, retry: false, message: words.refusedStatus + " (" + response.status + ")" };
      }
      return response.json();
    }).then(function (answer) {
      if (answer.ok) {
        change(entry.id, function () { return null; });
        redraw(answer.rows);
        if (answer.next && madeHere[entry.id]) {
          var next = new URL(answer.next, location.href);
          if (next.pathname + next.search === location.pathname + location.search) {
            location.reload(); // only the #fragment differs: assign() would not load the page
          } else {
            location.assign(next.href);
          }
        }
      } else if (answer.retry) {
        problem = "retry";
        throw STOP;
      } else {
        change(entry.id, function (e) {
          e.state = "refused";
          e.reason = answer.message;
          return e;
        });
      }
    });
  }

  function send() {
    if (sending) {
      again = true;
      return;
    }
    again = false;
    var entries = load().filter(function (e) { return e.state !== "refused"; });
    if (!entries.length) return;
    sending = true;
    show();
    fetch("/my-contacts/session", {
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.type === "opaqueredirect") {
        problem = "signin";
        throw STOP;
      }
      if (!response.ok) {
        problem = "retry";
        throw STOP;
      }
      return response.json();
    }).then(function (session) {
      // Only the signed-in member's entries: another member's wait for their own sign-in.
      var queue = load().filter(function (e) {
        return e.state !== "refused" && (!e.member || e.member === session.member_id);
      });
      return queue.reduce(function (done, entry) {
        return done.then(function () { return post(entry, session.csrf); });
      }, Promise.resolve()).then(function () { problem = null; });
    }).catch(function (error) {
      if (error !== STOP) problem = "offline"; // fetch itself failed: no network
    }).then(function () {
      sending = false;
      show();
      if (again && problem === null) send();
    });
  }

  // The one-tap undo lasts a short while; the contact card withdraws a contact later.
  function armUndo() {
    document.querySelectorAll("form[data-undo-until]").forEach(function (form) {
      var left = Number(form.dataset.undoUntil) - Date.now();
      if (left <= 0) {
        form.remove();
      } else if (!form.dataset.armed) {
        form.dataset.armed = "1";
        setTimeout(function () { form.remove(); }, left);
      }
    });
  }

  window.addEventListener("online", send);
  window.addEventListener("storage", function (event) {
    if (event.key === STORE) show();
  });
  setInterval(function () {
    if (load().some(function (e) { return e.state !== "refused"; })) send();
  }, RETRY_MS);
  armUndo();
  show();
  send();
})();
