// Manager login: the password goes over the websocket's "login" message (the HTTP side of
// the server reads no request body); a manager gets a one-time code that the server trades
// for an HttpOnly session cookie at /manager/session. After a password reset the welcome
// says must_change_password: the page asks for a new password (twice), sends
// "change_password" on the same connection, and goes on with the code of the welcome that
// answers it.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("login-data").textContent);
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const button = document.getElementById("login-button");
  const fields = document.getElementById("login-fields");
  const mustChange = document.getElementById("must-change");
  const newPassword = document.getElementById("new-password");
  const newAgain = document.getElementById("new-password-again");
  let changing = null;  // {ws, password} while the new password is being chosen

  function show(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function label() {
    return changing ? data.texts.login_change_button : data.texts.login_button;
  }

  function busy(on) {
    button.disabled = on;
    button.textContent = on ? data.texts.login_busy : label();
  }

  function step(choosing) {
    fields.hidden = choosing;
    mustChange.hidden = !choosing;
    button.textContent = label();
    (choosing ? newPassword : document.getElementById("password")).focus();
  }

  function openSession(code) {
    location.assign("/manager/session?code=" + encodeURIComponent(code) +
                    "&next=" + encodeURIComponent(data.next));
  }

  function serverError(message) {
    return message.code === "forbidden" ? data.texts.login_not_manager
      : (data.lang === "en" ? message.message_en : message.message_vi);
  }

  function choose() {
    const first = newPassword.value;
    if (!first || !newAgain.value) {
      show(data.texts.login_missing);
      return;
    }
    if (first.length < data.min_password) {
      show(data.texts.password_short);
      return;
    }
    if (first !== newAgain.value) {
      show(data.texts.adm_js_passwords_differ);
      return;
    }
    show("");
    busy(true);
    changing.ws.send(JSON.stringify({ type: "change_password", id: "web-change",
                                      old_password: changing.password, new_password: first }));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (changing) {
      choose();
      return;
    }
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
      if (changing) {
        changing = null;
        step(false);
      }
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
      if (message.re !== "web-login" && message.re !== "web-change") return;
      if (message.type === "welcome" && message.web_code) {
        done = true;
        ws.close();
        openSession(message.web_code);
      } else if (message.type === "welcome" && message.must_change_password) {
        changing = { ws: ws, password: password };
        busy(false);
        step(true);
      } else if (message.type === "error" && message.re === "web-change") {
        busy(false);  // the connection stays: try another password
        show(serverError(message));
      } else if (message.type === "error") {
        fail(serverError(message));
      }
    };
    ws.onerror = function () { fail(data.texts.login_unreachable); };
    ws.onclose = function () { fail(data.texts.login_unreachable); };
  });
})();
