// Manager login: the password goes over the websocket's "login" message (the HTTP side of
// the server reads no request body); a manager gets a one-time code that the server trades
// for an HttpOnly session cookie at /manager/session.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("login-data").textContent);
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const button = document.getElementById("login-button");

  function show(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function busy(on) {
    button.disabled = on;
    button.textContent = on ? data.texts.login_busy : data.texts.login_button;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const username = document.getElementById("username").value.trim();
    const password = document.getElementById("password").value;
    if (!username || !password) {
      show(data.texts.login_missing);
      return;
    }
    show("");
    busy(true);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let done = false;
    const ws = new WebSocket(scheme + location.host + "/ws");
    const fail = function (message) {
      if (done) return;
      done = true;
      busy(false);
      show(message);
      try { ws.close(); } catch (e) { /* already closed */ }
    };
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "login", id: "web-login", v: 1, username: username,
                               password: password, web_session: true }));
    };
    ws.onmessage = function (event) {
      const message = JSON.parse(event.data);
      if (message.re !== "web-login") return;
      if (message.type === "welcome" && message.web_code) {
        done = true;
        ws.close();
        location.assign("/manager/session?code=" + encodeURIComponent(message.web_code) +
                        "&next=" + encodeURIComponent(data.next));
      } else if (message.type === "error") {
        fail(message.code === "forbidden" ? data.texts.login_not_manager
             : (data.lang === "en" ? message.message_en : message.message_vi));
      }
    };
    ws.onerror = function () { fail(data.texts.login_unreachable); };
    ws.onclose = function () { fail(data.texts.login_unreachable); };
  });
})();
