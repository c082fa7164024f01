// The public ticket page: follows the ticket over the websocket ("watch_ticket"), calls the
// citizen with a vibration and a generated beep, and lets them rate the service once.
(function () {
  "use strict";
  const root = document.getElementById("ticket");
  const data = JSON.parse(document.getElementById("ticket-data").textContent);
  const texts = data.texts;
  const token = root.dataset.token;
  let lang = (window.localStorage && localStorage.getItem("xephang-lang")) || root.dataset.lang || "vi";
  let status = data.status;
  let rating = { state: "idle", value: null }; // idle | sending | done | already | failed
  let connected = false;
  let ended = false; // closed by the server once the ticket has nothing more to tell
  let displaced = false; // closed by the server because other devices follow this ticket
  let socket = null;
  let retry = 0;
  let audio = null;
  let lastCall = callKey(status);
  // For tests and the curious, and for ticket-notify.js (the notifications' opt-in): it sends
  // on this page's websocket, hears its messages and redraws with it.
  const hooks = { alerts: 0, messages: 0, sendRate: sendRate, send: function (m) { return send(m); },
                  listeners: [], renders: [], lang: function () { return lang; } };
  window.__xephang = hooks;

  const $ = function (id) { return document.getElementById(id); };

  function tr(key, params) {
    const table = texts[lang] || texts.vi;
    return (table[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return params && params[name] !== undefined ? String(params[name]) : "";
    });
  }

  function localTime(iso) {
    try {
      return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "vi-VN", {
        timeZone: data.timezone, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit",
        year: "numeric" }).format(new Date(iso));
    } catch (error) {
      return "";
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function counterName() {
    const t = status.ticket;
    const english = lang === "en" && data.counter_names_en ? data.counter_names_en[String(t.counter)] : "";
    return english || status.counter_name || "";
  }

  function callKey(s) {
    const t = s && s.ticket;
    return t && t.state === "called" ? (t.called_at || "") + "|" + t.recalls + "|" + t.counter : null;
  }

  // -- alerts: vibration and a short generated two-tone beep (no sound file) --------------------
  function beep() {
    if (!audio) return;
    try {
      if (audio.state === "suspended") audio.resume();
      const start = audio.currentTime + 0.02;
      [[880, 0], [1320, 0.22], [880, 0.6], [1320, 0.82]].forEach(function (tone) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, start + tone[1]);
        gain.gain.exponentialRampToValueAtTime(0.35, start + tone[1] + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + tone[1] + 0.2);
        osc.connect(gain).connect(audio.destination);
        osc.start(start + tone[1]);
        osc.stop(start + tone[1] + 0.22);
      });
    } catch (error) { /* no audio on this device */ }
  }

  function alertCitizen() {
    hooks.alerts += 1;
    if (navigator.vibrate) {
      try { navigator.vibrate([400, 150, 400, 150, 600]); } catch (error) { /* not allowed */ }
    }
    beep();
    root.classList.remove("flash");
    void root.offsetWidth; // restart the animation
    root.classList.add("flash");
  }

  function enableSound() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (Context && !audio) audio = new Context();
      if (audio && audio.state === "suspended") audio.resume();
    } catch (error) { audio = null; }
    if (navigator.vibrate) {
      try { navigator.vibrate(60); } catch (error) { /* not allowed */ }
    }
    beep();
    const button = $("sound-toggle");
    button.classList.add("on");
    button.textContent = tr("t_sound_enabled");
  }

  // -- drawing -------------------------------------------------------------------------------------
  function face(index, count) {
    // a simple face: the mouth curves from a smile (best) to a frown (worst)
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 48 48");
    svg.setAttribute("aria-hidden", "true");
    const circle = document.createElementNS(ns, "circle");
    circle.setAttribute("cx", "24"); circle.setAttribute("cy", "24"); circle.setAttribute("r", "21");
    circle.setAttribute("fill", "currentColor"); circle.setAttribute("opacity", "0.16");
    svg.appendChild(circle);
    [17, 31].forEach(function (x) {
      const eye = document.createElementNS(ns, "circle");
      eye.setAttribute("cx", String(x)); eye.setAttribute("cy", "19"); eye.setAttribute("r", "3");
      eye.setAttribute("fill", "currentColor");
      svg.appendChild(eye);
    });
    const curve = count > 1 ? 9 - (18 * index) / (count - 1) : 6;
    const mouth = document.createElementNS(ns, "path");
    mouth.setAttribute("d", "M14 " + (31 - curve / 2) + " Q24 " + (31 + curve) + " 34 " + (31 - curve / 2));
    mouth.setAttribute("fill", "none"); mouth.setAttribute("stroke", "currentColor");
    mouth.setAttribute("stroke-width", "3.5"); mouth.setAttribute("stroke-linecap", "round");
    svg.appendChild(mouth);
    return svg;
  }

  function levelName(value) {
    const level = (status.rating || []).find(function (r) { return r.value === value; });
    return level ? (lang === "en" ? level.name_en : level.name_vi) : String(value);
  }

  function ratingBlock() {
    const box = el("div", "rating");
    const given = status.ticket.rating !== null && status.ticket.rating !== undefined ? status.ticket.rating
      : (rating.state === "done" ? rating.value : null);
    if (given !== null) {
      box.appendChild(el("p", "thanks", tr("t_rate_thanks", { level: levelName(given) })));
      if (rating.state === "already") box.appendChild(el("p", "note", tr("t_rated_already")));
      return box;
    }
    if (rating.state === "already") {
      box.appendChild(el("p", "thanks", tr("t_rated_already")));
      return box;
    }
    const levels = (status.rating || []).slice().sort(function (a, b) { return b.value - a.value; });
    if (!levels.length) return box; // no scale offered: e.g. a ticket too old to rate
    box.appendChild(el("p", "question", tr("t_rate_question")));
    const list = el("div", "levels");
    levels.forEach(function (level, index) {
      const button = el("button", "level level-" + Math.round((index * 4) / Math.max(levels.length - 1, 1)));
      button.type = "button";
      button.dataset.value = String(level.value);
      button.disabled = rating.state === "sending";
      button.appendChild(face(index, levels.length));
      button.appendChild(el("span", "", lang === "en" ? level.name_en : level.name_vi));
      button.addEventListener("click", function () { sendRate(level.value); });
      list.appendChild(button);
    });
    box.appendChild(list);
    if (rating.state === "failed") box.appendChild(el("p", "note error", tr("t_rate_failed")));
    return box;
  }

  function render() {
    const t = status.ticket;
    hooks.renders.forEach(function (draw) { draw(lang, t.state); });
    document.documentElement.lang = lang;
    root.dataset.state = t.state;
    $("number").textContent = t.number;
    $("service").textContent = lang === "en" ? status.service_name_en : status.service_name_vi;
    $("issued").textContent = tr("t_issued_at", { at: localTime(t.issued_at) });
    document.querySelector("#panel .label").textContent = tr("t_ticket");
    $("lang-toggle").textContent = tr("t_language");
    const sound = $("sound-toggle");
    sound.textContent = audio ? tr("t_sound_enabled") : tr("t_sound_on");
    sound.hidden = !["waiting", "held", "absent"].includes(t.state);
    $("conn-text").textContent = connected ? tr("t_live") : tr(displaced ? "t_elsewhere" : "t_reconnecting");
    $("conn").classList.toggle("off", !connected);
    $("conn").hidden = ended; // a finished ticket's page stays as it is: nothing is offline

    const box = $("status");
    box.replaceChildren();
    box.className = "status " + t.state;
    const counterNo = t.counter === null || t.counter === undefined ? "" : t.counter;
    if (t.state === "waiting") {
      const ahead = el("div", "ahead");
      if (status.ahead > 0) {
        ahead.appendChild(el("span", "ahead-count", String(status.ahead)));
        ahead.appendChild(el("span", "ahead-text", tr("t_ahead_label")));
      } else {
        ahead.appendChild(el("span", "ahead-text next", tr("t_ahead_none")));
      }
      box.appendChild(ahead);
      const minutes = status.estimated_wait_minutes;
      box.appendChild(el("p", "estimate", minutes && minutes > 1 ? tr("t_estimate", { minutes: minutes })
        : tr("t_estimate_none")));
      if (t.transfers > 0) {
        box.appendChild(el("p", "note", tr("t_transferred", {
          service: lang === "en" ? status.service_name_en : status.service_name_vi })));
      }
      box.appendChild(el("p", "note", tr("t_waiting_note")));
    } else if (t.state === "called") {
      box.appendChild(el("p", "call-lead", tr("t_called")));
      box.appendChild(el("p", "counter-no", String(counterNo)));
      if (status.counter_name) box.appendChild(el("p", "counter-name", counterName()));
      box.appendChild(el("p", "go-now", tr("t_go_now")));
      if (t.recalls > 0) box.appendChild(el("p", "note", tr("t_recalled", { count: t.recalls })));
    } else if (t.state === "serving") {
      box.appendChild(el("p", "state-line", tr("t_serving", { counter: counterNo })));
      if (status.counter_name) box.appendChild(el("p", "counter-name small", counterName()));
    } else if (t.state === "held") {
      box.appendChild(el("p", "state-line", tr("t_held")));
      if (t.note) box.appendChild(el("p", "note held-note", tr("t_held_note", { note: t.note })));
    } else if (t.state === "absent") {
      box.appendChild(el("p", "state-line", tr("t_absent", { counter: counterNo })));
    } else if (t.state === "done") {
      box.appendChild(el("p", "state-line done", tr("t_done")));
      box.appendChild(ratingBlock());
    } else if (t.state === "cancelled") {
      box.appendChild(el("p", "state-line", tr("t_cancelled")));
    } else {
      box.appendChild(el("p", "state-line", tr("t_expired")));
    }
  }

  // -- the websocket ---------------------------------------------------------------------------------
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function sendRate(value) {
    if (rating.state === "sending") return false;
    rating = { state: "sending", value: value };
    render();
    if (!send({ type: "rate", id: "rate-" + value + "-" + Date.now(), value: value })) {
      rating = { state: "failed", value: null };
      render();
      return false;
    }
    return true;
  }

  function onMessage(event) {
    const message = JSON.parse(event.data);
    hooks.messages += 1;
    hooks.listeners.forEach(function (listener) { listener(message); });
    if (message.type === "ticket_status") {
      status = message;
      const key = callKey(status);
      if (key && key !== lastCall) alertCitizen();
      lastCall = key;
      render();
    } else if (message.type === "result" && String(message.re || "").indexOf("rate-") === 0) {
      rating = { state: "done", value: rating.value };
      if (message.ticket) status.ticket = message.ticket;
      render();
    } else if (message.type === "error" && String(message.re || "").indexOf("rate-") === 0) {
      rating = { state: message.code === "already_rated" ? "already" : "failed", value: null };
      render();
    } else if (message.type === "error" && message.code === "ticket_not_found") {
      connected = false;
      render();
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/public"); // the watchers-only path
    socket.onopen = function () {
      retry = 0;
      send({ type: "watch_ticket", id: "watch", v: 1, token: token });
      connected = true;
      render();
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      connected = false;
      displaced = event.code === 1008; // policy close: reconnecting would only evict another device
      ended = event.code === 1000; // the ticket is over: the server has nothing more to send
      render();
      if (displaced || ended) return;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * retry + Math.random() * 500);
    };
  }

  $("lang-toggle").addEventListener("click", function () {
    lang = lang === "vi" ? "en" : "vi";
    try { localStorage.setItem("xephang-lang", lang); } catch (error) { /* private mode */ }
    render();
  });
  $("sound-toggle").addEventListener("click", enableSound);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !ended && socket && socket.readyState === WebSocket.CLOSED) connect();
  });
  render();
  connect();
})();
