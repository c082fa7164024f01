// The ticket page's notifications opt-in (issue 16): Web Push on this phone, or a Zalo or SMS
// message to a phone number, for "your turn is near" and "you are called". It talks over the
// ticket page's own websocket (ticket.js's hooks): notify_subscribe / notify_unsubscribe.
(function () {
  "use strict";
  const hooks = window.__xephang;
  const box = document.getElementById("notify");
  const page = JSON.parse(document.getElementById("ticket-data").textContent);
  const data = page.notify;
  if (!hooks || !box || !data || !data.channels.length) return;
  const on = new Set(data.on || []);
  const phones = {}; // channel → the number typed on this page (never stored on the phone)
  let problem = null; // { vi, en } of the last refusal
  let busy = false;
  const pushReady = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const state = { lang: hooks.lang(), ticket: page.status.ticket.state };

  function tr(key, params) {
    const table = data.texts[state.lang] || data.texts.vi;
    return (table[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return params && params[name] !== undefined ? params[name] : "{" + name + "}";
    });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function request(message) {
    busy = true;
    problem = null;
    message.id = "notify-" + message.type + "-" + (message.channel || "all") + "-" + Date.now();
    if (!hooks.send(message)) {
      busy = false;
      problem = { vi: tr("page_failed", { reason: "" }), en: "" };
    }
    draw();
  }

  function keyBytes(base64url) {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - base64url.length % 4) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }

  function subscribePush() {
    if (!pushReady) return;
    busy = true;
    draw();
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("denied");
      return navigator.serviceWorker.register("/t/notify-sw.js", { scope: "/t/" });
    }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({ userVisibleOnly: true,
                                                   applicationServerKey: keyBytes(data.vapid_key) });
    }).then(function (subscription) {
      const json = subscription.toJSON();
      request({ type: "notify_subscribe", channel: "webpush", language: state.lang,
                subscription: { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } } });
    }).catch(function (error) {
      busy = false;
      const text = error && error.message === "denied" ? tr("page_push_denied") : String(error && error.message || error);
      problem = { vi: text, en: text };
      draw();
    });
  }

  function subscribePhone(channel) {
    const input = document.getElementById("notify-phone");
    phones[channel] = input ? input.value : "";
    request({ type: "notify_subscribe", channel: channel, phone: phones[channel], language: state.lang });
  }

  function stop(channel) {
    request({ type: "notify_unsubscribe", channel: channel });
  }

  function draw() {
    box.replaceChildren();
    const over = ["done", "cancelled", "expired"].includes(state.ticket);
    box.hidden = over;
    if (over) return;
    box.appendChild(el("h2", "notify-heading", tr("page_heading")));
    box.appendChild(el("p", "note", tr("page_intro", { near_at: data.near_at })));
    if (data.channels.includes("webpush")) {
      const row = el("div", "notify-row");
      if (on.has("webpush")) {
        row.appendChild(el("p", "notify-on", tr("page_push_on")));
        const button = el("button", "notify-stop", tr("page_stop"));
        button.type = "button";
        button.id = "notify-stop-webpush";
        button.addEventListener("click", function () { stop("webpush"); });
        row.appendChild(button);
      } else if (pushReady) {
        const button = el("button", "notify-push", tr("page_push"));
        button.type = "button";
        button.id = "notify-push";
        button.disabled = busy;
        button.addEventListener("click", subscribePush);
        row.appendChild(button);
      } else {
        row.appendChild(el("p", "note", tr("page_push_unsupported")));
      }
      box.appendChild(row);
    }
    const phoneChannels = data.channels.filter(function (c) { return c !== "webpush"; });
    if (phoneChannels.length) {
      const row = el("div", "notify-row");
      const waiting = phoneChannels.filter(function (c) { return !on.has(c); });
      phoneChannels.filter(function (c) { return on.has(c); }).forEach(function (channel) {
        const name = tr("page_channel_" + channel);
        row.appendChild(el("p", "notify-on", phones[channel]
          ? tr("page_phone_on", { channel: name, phone: phones[channel] }) : tr("page_channel_on", { channel: name })));
        const button = el("button", "notify-stop", tr("page_stop"));
        button.type = "button";
        button.id = "notify-stop-" + channel;
        button.addEventListener("click", function () { stop(channel); });
        row.appendChild(button);
      });
      if (waiting.length) {
        const label = el("label", "notify-label", tr("page_phone"));
        label.htmlFor = "notify-phone";
        const input = el("input", "notify-phone");
        input.id = "notify-phone";
        input.type = "tel";
        input.autocomplete = "tel";
        input.inputMode = "tel";
        input.maxLength = 20;
        input.placeholder = "0912 345 678";
        row.append(label, input);
        waiting.forEach(function (channel) {
          const button = el("button", "notify-phone-send", tr("page_" + channel));
          button.type = "button";
          button.id = "notify-" + channel;
          button.disabled = busy;
          button.addEventListener("click", function () { subscribePhone(channel); });
          row.appendChild(button);
        });
      }
      row.appendChild(el("p", "note privacy", tr("page_privacy")));
      box.appendChild(row);
    }
    if (problem) box.appendChild(el("p", "note error", state.lang === "en" && problem.en ? problem.en : problem.vi));
  }

  hooks.listeners.push(function (message) {
    const re = String(message.re || "");
    if (re.indexOf("notify-") !== 0) return;
    const parts = re.split("-"); // notify-<type>-<channel>-<time>
    const kind = parts[1];
    const channel = parts[2];
    busy = false;
    if (message.type === "result") {
      if (kind === "notify_subscribe") on.add(channel);
      else if (channel === "all") on.clear();
      else on.delete(channel);
    } else if (message.type === "error") {
      problem = { vi: tr("page_failed", { reason: message.message_vi }), en: "" };
      const english = data.texts.en.page_failed.replace("{reason}", message.message_en);
      problem.en = english;
    }
    draw();
  });
  hooks.renders.push(function (lang, ticketState) {
    state.lang = lang;
    state.ticket = ticketState;
    draw();
  });
  draw();
})();
