/* The frontend's service worker: the pages where contacts are logged, and the assets they
 * need, stay on the phone, so that a reload without a network still shows the page and what
 * its outbox (offline.js) keeps. It only reads: forms are the outbox's business.
 *
 * Pages are fetched from the network first (what the services hold now) and kept; the copy
 * is shown only when the network fails. Signing out forgets the kept pages (they hold names
 * and phone numbers); the outbox keeps its entries, sent at the member's next sign-in.
 */
"use strict";

var CACHE = "sanlian-offline-2";
var PAGES = ["/my-contacts", "/my-contacts/meeting"];
var ASSETS = [
  "/static/app.css", "/static/offline.js", "/static/todo.js", "/static/favicon.svg", "/vendor/htmx.min.js",
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // The pages too: the page that registered the worker is not controlled by it yet.
      return cache.addAll(ASSETS).then(function () {
        return Promise.all(PAGES.map(function (page) { return keep(cache, page); }));
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) {
        return caches.delete(n);
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

function kept(url) {
  return PAGES.indexOf(url.pathname) >= 0 || ASSETS.indexOf(url.pathname) >= 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(forgetPages());
    return;
  }
  if (request.method !== "GET" || !kept(url)) return;
  // Kept under the path alone: /my-contacts?logged=... shows the kept /my-contacts offline.
  var key = url.origin + url.pathname;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.type === "opaqueredirect") {
        event.waitUntil(forgetPages()); // a kept page sends to the sign-in: its session ended
      } else if (response.ok && !response.redirected && url.search === "") {
        var copy = response.clone();
        event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(key, copy); }));
      }
      return response;
    }).catch(function (error) {
      return caches.match(key).then(function (found) {
        if (found) return found;
        throw error;
      });
    })
  );
});

// A page as the signed-in member sees it now; a redirect (to the sign-in form) is not kept.
function keep(cache, page) {
  return fetch(page, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
    if (response.ok) return cache.put(self.location.origin + page, response);
  }).catch(function () { /* no network now: kept at the next visit */ });
}

function forgetPages() {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(PAGES.map(function (page) {
      return cache.delete(self.location.origin + page);
    }));
  });
}
