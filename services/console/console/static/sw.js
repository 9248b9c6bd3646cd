/* Opsdesk console's service worker: keeps the shell (styles, scripts, icons) so a phone on a slow network draws
   pages at once. Pages and the API always come from the network (they carry the person's data and CSRF token). */
"use strict";
var SHELL = "opsdesk-shell-v1";
var ASSETS = ["/static/console.css", "/static/console.js", "/static/vendor/htmx.min.js", "/static/icons/icon.svg",
  "/static/icons/icon-192.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

/* Static files: the cached copy at once, refreshed from the network behind it. Everything else: the network. */
self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/static/") !== 0) { return; }
  event.respondWith(caches.open(SHELL).then(function (cache) {
    return cache.match(event.request).then(function (hit) {
      var fresh = fetch(event.request).then(function (reply) {
        if (reply.ok) { cache.put(event.request, reply.clone()); }
        return reply;
      });
      if (hit) { fresh.catch(function () { return null; }); return hit; }
      return fresh;
    });
  }));
});
