// The ticket page's service worker (scope /t/): shows the notifications the outbox process
// sends by Web Push ("your turn is near", "you are called") and opens the ticket's page when
// one is touched. The payload is JSON: title, body, url, tag, message.
"use strict";

self.addEventListener("push", function (event) {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: event.data ? event.data.text() : "" };
  }
  const called = data.message === "called";
  event.waitUntil(self.registration.showNotification(data.title || "", {
    body: data.body || "", tag: data.tag || undefined, renotify: true, requireInteraction: called,
    vibrate: called ? [300, 120, 300, 120, 600] : [200], data: { url: data.url || "" } }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const url = event.notification.data && event.notification.data.url;
  if (!url) return;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
    const open = list.find(function (client) { return client.url === url; });
    return open ? open.focus() : self.clients.openWindow(url);
  }));
});
