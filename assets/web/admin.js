// Administration pages: every change goes as a typed "admin_change" over the page's own
// websocket (the server answers HTTP GET only). The socket logs in with the page's session
// cookie ("web_login"). Each form carries the whole change it starts from (data-change) and
// the changed thing's fingerprint (data-base); its named fields are written into the change
// by their dotted path ("service.numbering.prefix"), typed by data-type. On "result" the page
// reloads and says it was saved; on "error" the server's message is shown beside the form,
// and what the manager typed stays. The checks here only give quick feedback: the server
// checks everything again. A list edited as rows (data-rows: the shared rules' outcomes,
// priority classes, pause reasons, rating scale) is read row by row from the fields' data-field;
// a select with data-copy-into copies parts of an existing site (read_settings) into the change.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("admin-data").textContent);
  const texts = data.texts;
  const SAVED_KEY = "xephang-admin-saved";
  const SPAN = /^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
  const DAY = /^\d{4}-\d{2}-\d{2}$/;

  function text(key, params) {
    return String(texts[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return params && name in params ? String(params[name]) : all;
    });
  }

  // -- the websocket --------------------------------------------------------------------------

  let socket = null;
  let nextId = 1;
  const waiting = new Map();

  function connect() {
    if (socket) return socket;
    socket = new Promise(function (resolve, reject) {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const ws = new WebSocket(scheme + location.host + "/ws");
      let ready = false;
      ws.onopen = function () {
        ws.send(JSON.stringify({ type: "web_login", id: "admin-login", v: 1 }));
      };
      ws.onmessage = function (event) {
        const message = JSON.parse(event.data);
        if (message.re === "admin-login") {
          if (message.type === "welcome") {
            ready = true;
            resolve(ws);
          } else if (message.code === "session_expired") {
            location.assign("/manager/login?next=" + encodeURIComponent(location.pathname + location.search));
          } else {
            reject(message);
          }
          return;
        }
        const pending = waiting.get(message.re);
        if (pending) {
          waiting.delete(message.re);
          pending(message);
        }
      };
      ws.onclose = function () {
        socket = null;
        if (!ready) reject(null);
        for (const [id, pending] of waiting) {
          waiting.delete(id);
          pending(null);
        }
      };
    });
    socket.catch(function () { socket = null; });
    return socket;
  }

  async function request(message) {
    const ws = await connect();
    const id = "admin-" + nextId++;
    return new Promise(function (resolve) {
      waiting.set(id, resolve);
      ws.send(JSON.stringify(Object.assign({ id: id }, message)));
    });
  }

  // -- reading a form into its change -------------------------------------------------------------

  function Invalid(element, message) {
    this.element = element;
    this.message = message;
  }

  function labelOf(element) {
    const holder = element.closest("[data-label]");
    const own = holder ? holder.dataset.label : element.name;
    const row = element.closest(".row-item");
    if (!row) return own;
    const group = row.closest("[data-rows]");
    const number = Array.from(row.parentNode.children).indexOf(row) + 1;
    return text("adm_js_row_field", { group: group.dataset.label, row: number, field: own });
  }

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    for (let i = 0; i < parts.length - 1; i++) {
      if (node[parts[i]] === null || typeof node[parts[i]] !== "object") node[parts[i]] = {};
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = value;
  }

  function getPath(target, path) {
    return path.split(".").reduce(function (node, part) {
      return node === null || node === undefined ? undefined : node[part];
    }, target);
  }

  function integer(element, raw) {
    const min = element.min !== "" && element.min !== undefined ? Number(element.min) : -Infinity;
    const max = element.max !== "" && element.max !== undefined ? Number(element.max) : Infinity;
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new Invalid(element, text("adm_js_bad_number", {
        field: labelOf(element), min: min === -Infinity ? "…" : min, max: max === Infinity ? "…" : max }));
    }
    return Number(raw);
  }

  function valueOf(element, change) {
    const kind = element.dataset.type || "text";
    const raw = element.value;
    const trimmed = raw.trim();
    const field = labelOf(element);
    if (kind === "ui") return undefined;
    if (kind === "bool") return element.checked;
    if (element.required && !trimmed) throw new Invalid(element, text("adm_js_required", { field: field }));
    if (element.dataset.pattern && trimmed && !new RegExp("^(?:" + element.dataset.pattern + ")$").test(trimmed)) {
      throw new Invalid(element, text(element.dataset.patternText, { field: field }));
    }
    if (element.dataset.notIn && element.dataset.notIn.split(" ").indexOf(trimmed) >= 0) {
      throw new Invalid(element, text("adm_js_site_taken", { field: field, value: trimmed }));
    }
    if (element.dataset.placeholders) placeholders(element, trimmed, field);
    switch (kind) {
      case "password":
        if (!raw) return null;
        if (raw.length < data.min_password) {
          throw new Invalid(element, text("adm_js_password_short", { field: field, minimum: data.min_password }));
        }
        return raw;
      case "optional":
        return trimmed || null;
      case "int":
        return trimmed ? integer(element, trimmed) : null;
      case "percent":  // shown as a whole percentage, sent as a share (50 → 0.5)
        return trimmed ? integer(element, trimmed) / 100 : null;
      case "ints": {
        if (!trimmed) return [];
        const parts = trimmed.split(/[\s,;]+/).filter(Boolean);
        if (!parts.every(function (p) { return /^\d+$/.test(p); })) {
          throw new Invalid(element, text("adm_js_bad_numbers", { field: field }));
        }
        return parts.map(Number);
      }
      case "ranges": {
        const spans = trimmed ? trimmed.split(/[\s,;]+/).filter(Boolean) : [];
        for (const span of spans) {
          if (!SPAN.test(span) || span.slice(0, 5) >= span.slice(6)) {
            throw new Invalid(element, text("adm_js_bad_hours", { field: field, value: span }));
          }
        }
        return spans;
      }
      case "pairs": {  // "name: value" per line, or "name=value; …": an object (headers, parameters)
        const found = {};
        for (const entry of raw.split(/[\n;]/)) {
          if (!entry.trim()) continue;
          const at = entry.search(/[:=]/);
          const name = at > 0 ? entry.slice(0, at).trim() : "";
          if (!name) throw new Invalid(element, text("adm_js_bad_pairs", { field: field, value: entry.trim() }));
          found[name] = entry.slice(at + 1).trim();
        }
        return found;
      }
      case "date-add": {
        if (!DAY.test(trimmed) || isNaN(Date.parse(trimmed))) {
          throw new Invalid(element, text("adm_js_bad_date", { field: field }));
        }
        const days = (getPath(change, element.name) || []).filter(function (d) { return d !== trimmed; });
        days.push(trimmed);
        return days.sort();
      }
      default:
        return trimmed;
    }
  }

  // A template's {placeholders}: each of data-placeholders, and no other (as the settings check).
  function placeholders(element, value, field) {
    const wanted = element.dataset.placeholders.split(" ");
    const found = Array.from(value.matchAll(/\{(\w*)\}/g), function (m) { return m[1]; });
    const unknown = found.filter(function (name) { return wanted.indexOf(name) < 0; });
    if (unknown.length) {
      throw new Invalid(element, text("adm_js_template_unknown", { field: field, value: "{" + unknown[0] + "}" }));
    }
    if (!wanted.every(function (name) { return found.indexOf(name) >= 0; })) {
      throw new Invalid(element, text("adm_js_template_missing", { field: field }));
    }
  }

  // A list edited as rows: each row's data-field values (data-field "" makes the row the
  // value itself); a row left empty is no item; data-unique names the field no two rows share.
  function rowsOf(group) {
    const items = [];
    const seen = [];
    for (const row of group.querySelectorAll(":scope > .row-list > .row-item")) {
      const fields = Array.from(row.querySelectorAll("[data-field]"));
      if (fields.every(function (f) { return !f.value.trim(); })) continue;
      let item = {};
      for (const element of fields) {
        const value = valueOf(element, null);
        if (element.dataset.field === "") item = value;
        else item[element.dataset.field] = value;
      }
      const unique = group.dataset.unique;
      if (unique) {
        const key = item[unique];
        if (seen.indexOf(key) >= 0) {
          const element = row.querySelector('[data-field="' + unique + '"]');
          throw new Invalid(element, text("adm_js_duplicate", { field: labelOf(element), value: key }));
        }
        seen.push(key);
      }
      items.push(item);
    }
    if (group.dataset.min && items.length < Number(group.dataset.min)) {
      throw new Invalid(group.querySelector("[data-add-row]") || group,
        text("adm_js_rows_min", { field: group.dataset.label, minimum: group.dataset.min }));
    }
    return items;
  }

  function checked(group) {
    const boxes = Array.from(group.querySelectorAll("input[type=checkbox]"));
    const values = boxes.filter(function (b) { return b.checked; }).map(function (b) {
      return group.dataset.type === "ints" ? Number(b.value) : b.value;
    });
    if (group.dataset.min && values.length < Number(group.dataset.min)) {
      throw new Invalid(boxes[0] || group, text("adm_js_pick_one", { field: group.dataset.label }));
    }
    const unchanged = boxes.every(function (b) { return b.checked === b.defaultChecked; });
    return group.dataset.unchangedNull && unchanged ? null : values;
  }

  function isEmpty(value) {
    if (Array.isArray(value)) return value.length === 0;
    if (value && typeof value === "object") return Object.values(value).every(isEmpty);
    return value === null || value === undefined || value === "";
  }

  function changeOf(form) {
    const change = JSON.parse(form.dataset.change);
    for (const element of form.querySelectorAll("[name]")) {
      if (element.closest("[hidden]") || element.disabled) continue;
      const value = valueOf(element, change);
      if (value !== undefined) setPath(change, element.name, value);
    }
    for (const group of form.querySelectorAll("fieldset[data-name]")) {
      if (group.closest("[hidden]")) continue;
      setPath(change, group.dataset.name, checked(group));
    }
    for (const group of form.querySelectorAll("[data-rows]")) {
      if (group.closest("[hidden]")) continue;
      setPath(change, group.dataset.rows, rowsOf(group));
    }
    for (const path of (form.dataset.nullIfEmpty || "").split(" ").filter(Boolean)) {
      if (isEmpty(getPath(change, path))) setPath(change, path, null);
    }
    return change;
  }

  // -- sending --------------------------------------------------------------------------------------

  function showError(form, message, element, stale) {
    const box = form.querySelector("[data-error]");
    box.textContent = message;
    if (stale) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "button secondary small reload";
      again.textContent = text("adm_js_reload");
      again.addEventListener("click", function () { location.reload(); });
      box.append(" ", again);
    }
    for (const marked of form.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
    if (element && element.focus) {
      element.setAttribute("aria-invalid", "true");
      element.focus();
    }
  }

  // The parts (data-copy-fields) of the site chosen in a data-copy-into select, read from the
  // server as they are now, written into the change; an error reply (or null) if they cannot be.
  async function copyInto(form, change) {
    for (const select of form.querySelectorAll("select[data-copy-into]")) {
      const reply = await request({ type: "read_settings" });
      if (!reply || reply.type !== "settings") return reply || { type: "unreachable" };
      const source = reply.config.sites.find(function (s) { return s.code === select.value; });
      if (!source) {
        const message = text("adm_js_copy_gone", { field: labelOf(select), value: select.value });
        return { type: "invalid", element: select, message: message };
      }
      for (const part of select.dataset.copyFields.split(" ")) {
        setPath(change, select.dataset.copyInto + "." + part, source[part]);
      }
    }
    return null;
  }

  function busy(form, on) {
    const button = form.querySelector("button[type=submit]");
    if (on) {
      button.dataset.label = button.dataset.label || button.textContent;
      button.textContent = text("adm_js_saving");
    } else if (button.dataset.label) {
      button.textContent = button.dataset.label;
    }
    button.disabled = on;
  }

  async function submit(event) {
    const form = event.target;
    if (!form.classList.contains("admin-form")) return;
    event.preventDefault();
    let change;
    try {
      change = changeOf(form);
    } catch (error) {
      if (error instanceof Invalid) {
        showError(form, error.message, error.element, false);
        return;
      }
      throw error;
    }
    const button = form.querySelector("button[type=submit]");
    if (form.dataset.confirm && !form.dataset.armed) {  // a second press confirms
      form.dataset.armed = "1";
      button.dataset.label = button.textContent;
      button.textContent = text("adm_js_confirm_again");
      showError(form, "", null, false);
      return;
    }
    delete form.dataset.armed;
    showError(form, "", null, false);
    busy(form, true);
    let reply = null;
    try {
      reply = await copyInto(form, change);
      if (reply && reply.type === "invalid") {
        busy(form, false);
        showError(form, reply.message, reply.element, true);
        return;
      }
      if (reply === null && form.dataset.request) {  // a request of its own (webhook_replay), not a change
        reply = await request(Object.assign({}, change, { type: form.dataset.request }));
      }
      if (reply === null) {
        reply = await request({ type: "admin_change", base: form.dataset.base || null, change: change });
      }
    } catch (error) {
      reply = error && error.type === "error" ? error : null;
    }
    busy(form, false);
    if (reply && reply.type === "result" && reply.api_key) {  // a new API key: shown this once
      const shown = form.querySelector("[data-key-shown]");
      shown.querySelector("code").textContent = reply.api_key;
      shown.hidden = false;
      form.querySelector("button[type=submit]").disabled = true;
    } else if (reply && reply.type === "result") {
      sessionStorage.setItem(SAVED_KEY, text("adm_js_saved"));
      if (form.dataset.thenSite) {  // a new site: show its page
        location.assign(location.pathname + "?site=" + encodeURIComponent(getPath(change, form.dataset.thenSite)));
      } else {
        location.reload();
      }
    } else if (reply && reply.type === "error") {
      showError(form, data.lang === "en" ? reply.message_en : reply.message_vi, null, reply.code === "stale_edit");
    } else {
      showError(form, text("adm_js_unreachable"), null, false);
    }
  }

  document.addEventListener("submit", function (event) { submit(event); });

  // -- the page: edit panels, the pairing form's kind, the notice of a saved change --------------

  document.addEventListener("click", function (event) {  // a list's rows: add one, remove one
    const add = event.target.closest("[data-add-row]");
    const remove = event.target.closest("[data-remove-row]");
    if (add) {
      const group = add.closest("[data-rows]");
      const row = group.querySelector("template[data-row-template]").content.firstElementChild.cloneNode(true);
      group.querySelector(".row-list").append(row);
      const first = row.querySelector("input");
      if (first) first.focus();
    } else if (remove) {
      const row = remove.closest(".row-item");
      const next = row.nextElementSibling || row.previousElementSibling;
      const group = row.closest("[data-rows]");
      row.remove();
      const focus = next ? next.querySelector("input") : group.querySelector("[data-add-row]");
      if (focus) focus.focus();
    }
  });

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-toggle]");
    if (!toggle) return;
    const panel = document.getElementById(toggle.dataset.toggle);
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) {
      const first = panel.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });

  document.addEventListener("change", function (event) {
    const choice = event.target;
    if (choice.name !== "pair-kind") return;
    for (const part of choice.form.querySelectorAll("[data-kind-fields]")) {
      part.hidden = part.dataset.kindFields !== choice.value;
    }
  });

  const saved = sessionStorage.getItem(SAVED_KEY);
  if (saved) {
    sessionStorage.removeItem(SAVED_KEY);
    document.getElementById("admin-saved").textContent = saved;
  }
})();
