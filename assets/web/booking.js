// The public booking pages (/book and /book/<code>): one question per screen, large buttons,
// errors said beside the field in the citizen's words. Everything goes over the public
// websocket (/ws/public): booking_slots, book, take_remote, booking_lookup, booking_move,
// booking_cancel (docs/protocol.md). The checks here mirror common/citizen_ids.py so a
// mistake is shown at once; the server checks everything again and its refusals come with
// their own Vietnamese and English texts.
(function () {
  "use strict";
  const root = document.getElementById("booking");
  const data = JSON.parse(document.getElementById("booking-data").textContent);
  const texts = data.texts;
  const lang = data.lang;
  const loadedAt = Date.now();
  const hooks = { sent: [] };
  window.__xephangBooking = hooks; // for tests and the curious

  const $ = function (id) { return document.getElementById(id); };

  function tr(key, params) {
    return String(texts[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return params && params[name] !== undefined ? String(params[name]) : all;
    });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // -- times: shown in the site's time zone, whatever the phone's own --------------------------

  function serverNow() { return new Date(data.now).getTime() + (Date.now() - loadedAt); }

  function zoned(options) {
    try {
      return new Intl.DateTimeFormat("en-CA", Object.assign({ timeZone: data.timezone }, options));
    } catch (error) {
      return null; // no time zone data: the times as the server wrote them (site-local)
    }
  }
  const CLOCK = zoned({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const DATE = zoned({ year: "numeric", month: "2-digit", day: "2-digit" });
  function hhmm(iso) { return CLOCK ? CLOCK.format(new Date(iso)) : String(iso).slice(11, 16); }
  function dayOf(iso) { return DATE ? DATE.format(new Date(iso)) : String(iso).slice(0, 10); }

  function dayNumber(day) { // days since 1970 of a "YYYY-MM-DD", for differences
    const parts = day.split("-").map(Number);
    return Date.UTC(parts[0], parts[1] - 1, parts[2]) / 86400000;
  }

  function dayLabel(day) {
    const parts = day.split("-");
    const weekday = (new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2])).getUTCDay() + 6) % 7; // Monday 0
    const date = parts[2] + "/" + parts[1];
    const name = tr("js_wd_" + weekday);
    const ahead = dayNumber(day) - dayNumber(data.today);
    const near = ahead === 0 ? tr("js_today") : ahead === 1 ? tr("js_tomorrow") : "";
    return { near: near, long: name + ", " + date + "/" + parts[0], short: name + " " + date };
  }

  function slotText(slot) { return hhmm(slot.start) + " – " + hhmm(slot.end); }

  // -- what the citizen types, checked as common/citizen_ids.py checks it ---------------------

  const NAME_LETTERS = /^[a-zđ\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b]+$/i;

  function checkName(text) {
    const name = text.normalize("NFC").trim().split(/\s+/).join(" ");
    if (name.length < 2 || name.length > 80) return null;
    const ok = name.split(" ").every(function (word) {
      const parts = word.normalize("NFD");
      return /^[a-zđ]/i.test(parts) && NAME_LETTERS.test(parts);
    });
    return ok ? name : null;
  }

  function checkPhone(text) {
    let digits = text.trim().replace(/[\s.\-()]/g, "");
    if (digits.indexOf("+84") === 0) digits = "0" + digits.slice(3);
    else if (digits.indexOf("84") === 0 && digits.length === 11) digits = "0" + digits.slice(2);
    return /^0[35789]\d{8}$/.test(digits) ? digits : null;
  }

  function checkCccd(text) { // → { value } or { error, params }
    const cccd = text.replace(/\s/g, "");
    if (!cccd) return { error: "js_err_cccd_empty" };
    if (!/^\d+$/.test(cccd) || cccd.length !== 12) {
      return { error: "js_err_cccd_length", params: { count: cccd.replace(/\D/g, "").length } };
    }
    if (data.province_codes.indexOf(cccd.slice(0, 3)) < 0) return { error: "js_err_cccd_province" };
    const year = 1900 + 100 * Math.floor(Number(cccd[3]) / 2) + Number(cccd.slice(4, 6));
    if (year > Number(data.today.slice(0, 4))) return { error: "js_err_cccd_year" };
    return { value: cccd };
  }

  function checkCode(text) {
    const code = text.replace(/[\s-]/g, "").toUpperCase();
    if (code.length !== 8) return null;
    for (const ch of code) if (data.code_alphabet.indexOf(ch) < 0) return null;
    return code;
  }

  // -- the websocket: one request at a time, its reply matched by id ----------------------------

  let socket = null;
  let nextId = 1;
  const waiting = new Map();

  function connect() {
    if (socket) return socket;
    socket = new Promise(function (resolve, reject) {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const ws = new WebSocket(scheme + location.host + "/ws/public");
      ws.onopen = function () { resolve(ws); };
      ws.onmessage = function (event) {
        const message = JSON.parse(event.data);
        const pending = waiting.get(message.re);
        if (pending) {
          waiting.delete(message.re);
          pending(message);
        }
      };
      ws.onclose = function () {
        socket = null;
        reject(null);
        for (const [id, pending] of waiting) {
          waiting.delete(id);
          pending(null);
        }
      };
    });
    socket.catch(function () { socket = null; });
    return socket;
  }

  // The reply, or null when the server cannot be reached (the caller says so).
  async function request(message) {
    let ws;
    try {
      ws = await connect();
    } catch (error) {
      return null;
    }
    const id = "b" + nextId++;
    hooks.sent.push(message.type);
    return new Promise(function (resolve) {
      waiting.set(id, resolve);
      ws.send(JSON.stringify(Object.assign({ id: id }, message)));
    });
  }

  function errorText(reply) {
    if (!reply) return tr("js_err_unreachable");
    return lang === "en" ? reply.message_en : reply.message_vi;
  }

  // -- shared pieces: a list of big buttons, the days of a service, its slots -------------------

  function choice(main, sub, onClick) {
    const button = el("button", "choice");
    button.type = "button";
    button.appendChild(el("span", "choice-main", main));
    if (sub) button.appendChild(el("span", "choice-sub", sub));
    button.addEventListener("click", onClick);
    return button;
  }

  function dayButtons(box, service, onChoose) {
    box.replaceChildren();
    service.days.forEach(function (entry) {
      const label = dayLabel(entry.day);
      const button = choice(label.near || label.short, label.near ? label.short : "", function () {
        onChoose(entry.day);
      });
      button.dataset.day = entry.day;
      if (!entry.open) {
        button.disabled = true;
        button.classList.add("closed");
        const sub = button.querySelector(".choice-sub") || button.appendChild(el("span", "choice-sub", ""));
        sub.textContent = (sub.textContent ? sub.textContent + " · " : "") + tr("js_closed");
      }
      box.appendChild(button);
    });
  }

  // Asks for the slots of ``day`` and lists the ones not yet begun; ``current`` (a start) is
  // shown but not chosen (moving a booking). Resolves to the number of slots with places.
  async function slotButtons(box, status, site, service, day, current, onChoose) {
    box.replaceChildren();
    status.textContent = tr("js_loading");
    status.classList.remove("problem");
    const reply = await request({ type: "booking_slots", site: site, service: service, day: day });
    if (!reply || reply.type !== "booking_slots") {
      status.textContent = errorText(reply);
      status.classList.add("problem");
      return 0;
    }
    const now = serverNow();
    const coming = reply.slots.filter(function (slot) { return new Date(slot.start).getTime() > now; });
    let open = 0;
    coming.forEach(function (slot) {
      const isCurrent = current && new Date(slot.start).getTime() === new Date(current).getTime();
      const left = slot.left > 0 && !isCurrent;
      const sub = isCurrent ? tr("js_m_current") : slot.left > 0 ? tr("js_slot_left", { left: slot.left })
        : tr("js_slot_full");
      const button = choice(slotText(slot), sub, function () { onChoose(slot); });
      button.dataset.start = slot.start;
      button.classList.add(left ? "has-places" : "no-places");
      button.disabled = !left;
      if (left) open += 1;
      box.appendChild(button);
    });
    status.textContent = open ? "" : tr("js_no_slots");
    return open;
  }

  function findService(siteCode, serviceCode) {
    const site = data.sites.find(function (s) { return s.code === siteCode; });
    const service = site && site.services.find(function (s) { return s.code === serviceCode; });
    return { site: site, service: service };
  }

  // -- /book: the steps -------------------------------------------------------------------------

  function bookPage() {
    const state = { site: null, service: null, day: null, slot: null, remote: false };
    const multiSite = data.sites.length > 1;
    let current = null;
    let slotNotice = null; // a refusal to show above the times once they are listed again

    function order() {
      const steps = multiSite ? ["site"] : [];
      steps.push("service", "day");
      if (!state.remote) steps.push("slot");
      steps.push("details");
      return steps;
    }

    function show(step, push) {
      ["site", "service", "day", "slot", "details"].forEach(function (name) {
        const section = $("step-" + name);
        section.hidden = name !== step;
      });
      const steps = order();
      const section = $("step-" + step);
      section.querySelector(".step-no").textContent = tr("js_step", {
        step: steps.indexOf(step) + 1, steps: steps.length });
      current = step;
      root.dataset.step = step;
      root.dataset.first = steps.indexOf(step) === 0 ? "1" : "0"; // the introduction on the first step only
      if (push) history.pushState({ step: step }, "");
      window.scrollTo(0, 0);
      const heading = section.querySelector("h2");
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }

    function chooseSite(code, push) {
      state.site = data.sites.find(function (s) { return s.code === code; });
      $("chosen-site").textContent = state.site.name;
      $("chosen-site").hidden = !multiSite;
      const box = $("service-choices");
      box.replaceChildren();
      state.site.services.forEach(function (service) {
        const button = choice(service.name, "", function () { chooseService(service); });
        button.dataset.service = service.code;
        box.appendChild(button);
      });
      show("service", push);
    }

    function chooseService(service) {
      state.service = service;
      $("chosen-service").textContent = service.name;
      $("remote-offer").hidden = !service.remote_now;
      $("or-book").hidden = !service.bookable;
      dayButtons($("day-choices"), service, chooseDay);
      show("day", true);
    }

    function chooseDay(day) {
      state.day = day;
      state.remote = false;
      const label = dayLabel(day);
      $("chosen-day").textContent = state.service.name + " · " + (label.near ? label.near + ", " : "") + label.long;
      show("slot", true);
      loadSlots();
    }

    async function loadSlots() {
      await slotButtons($("slot-choices"), $("slot-status"), state.site.code, state.service.code, state.day, null,
        chooseSlot);
      if (slotNotice) { // why the citizen is back here
        $("slot-status").textContent = slotNotice;
        $("slot-status").classList.add("problem");
        slotNotice = null;
      }
    }

    function chooseSlot(slot) {
      state.slot = slot;
      $("summary").textContent = state.service.name + " · " + dayLabel(state.day).long + " · " + slotText(slot);
      $("submit").textContent = tr("js_submit_book");
      show("details", true);
    }

    function chooseRemote() {
      state.remote = true;
      state.slot = null;
      $("summary").textContent = state.service.name + " · " + tr("js_chosen_remote");
      $("submit").textContent = tr("js_submit_remote");
      show("details", true);
    }

    function fieldError(name, message) {
      const input = $(name);
      $(name + "-error").textContent = message || "";
      input.setAttribute("aria-invalid", message ? "true" : "false");
      input.closest(".field").classList.toggle("invalid", Boolean(message));
    }

    function checkForm() {
      const name = checkName($("name").value);
      fieldError("name", name ? "" : tr("js_err_name"));
      const phone = checkPhone($("phone").value);
      fieldError("phone", phone ? "" : tr("js_err_phone"));
      const cccd = checkCccd($("cccd").value);
      fieldError("cccd", cccd.error ? tr(cccd.error, cccd.params) : "");
      const consent = $("consent").checked;
      fieldError("consent", consent ? "" : tr("js_err_consent"));
      if (!name || !phone || cccd.error || !consent) {
        const first = ["name", "phone", "cccd", "consent"].find(function (f) {
          return $(f).getAttribute("aria-invalid") === "true";
        });
        $(first).focus();
        return null;
      }
      return { name: name, phone: phone, cccd: cccd.value };
    }

    const FIELD_OF = { invalid_name: "name", invalid_phone: "phone", invalid_cccd: "cccd" };

    async function submit(event) {
      event.preventDefault();
      $("form-error").textContent = "";
      const person = checkForm();
      if (!person) return;
      const button = $("submit");
      const label = button.textContent;
      button.disabled = true;
      button.textContent = tr("js_sending");
      const base = { site: state.site.code, service: state.service.code };
      const reply = state.remote
        ? await request(Object.assign({ type: "take_remote" }, base, person))
        : await request(Object.assign({ type: "book", start: state.slot.start, lang: lang }, base, person));
      if (reply && reply.type === "remote_ticket") {
        location.assign("/t/" + encodeURIComponent(reply.token));
        return;
      }
      if (reply && reply.type === "booking") {
        location.assign("/book/" + encodeURIComponent(reply.code) + "?new=1");
        return;
      }
      button.disabled = false;
      button.textContent = label;
      if (reply && !state.remote && (reply.code === "slot_full" || reply.code === "slot_past")) {
        // taken meanwhile: back to the times (counted again on the way), with the reason
        slotNotice = errorText(reply);
        history.back();
        return;
      }
      const field = reply && FIELD_OF[reply.code];
      if (field) {
        fieldError(field, errorText(reply));
        $(field).focus();
      } else {
        $("form-error").textContent = errorText(reply);
      }
    }

    document.querySelectorAll("#site-choices .choice").forEach(function (button) {
      button.addEventListener("click", function () { chooseSite(button.dataset.site, true); });
    });
    $("remote-choice").addEventListener("click", chooseRemote);
    $("details-form").addEventListener("submit", submit);
    document.querySelectorAll("[data-back]").forEach(function (button) {
      button.addEventListener("click", function () { history.back(); });
    });
    ["name", "phone", "cccd", "consent"].forEach(function (name) {
      $(name).addEventListener("input", function () { fieldError(name, ""); });
    });
    window.addEventListener("popstate", function (event) {
      const step = event.state && event.state.step;
      if (step && step !== current) {
        show(step, false);
        if (step === "slot" && state.day) loadSlots(); // the places left may have changed
      }
      else if (!step) show(multiSite ? "site" : "service", false);
    });

    if (multiSite) {
      history.replaceState({ step: "site" }, "");
      show("site", false);
    } else {
      chooseSite(data.sites[0].code, false);
      history.replaceState({ step: "service" }, "");
    }
  }

  function findForm() {
    const form = $("find-form");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const code = checkCode($("find-code").value);
      $("find-error").textContent = code ? "" : tr("js_err_code");
      $("find-code").setAttribute("aria-invalid", code ? "false" : "true");
      if (code) location.assign("/book/" + code);
    });
  }

  // -- /book/<code>: see, move, cancel ------------------------------------------------------------

  function managePage() {
    const code = root.dataset.code;
    let booking = null;
    let moveTo = null;
    let moveDay = null;

    function fact(list, label, value) {
      if (value === null || value === undefined || value === "") return;
      const row = el("div", "fact");
      row.appendChild(el("dt", "", label));
      row.appendChild(el("dd", "", value));
      list.appendChild(row);
    }

    function draw() {
      const found = findService(booking.site, booking.service);
      const day = dayOf(booking.start);
      const label = dayLabel(day);
      const list = $("facts");
      list.replaceChildren();
      fact(list, tr("js_m_when"), slotText(booking) + ", " + (label.near ? label.near + ", " : "") + label.long);
      list.firstChild.classList.add("when");
      fact(list, tr("js_m_service"), found.service ? found.service.name : booking.service);
      fact(list, tr("js_m_where"), found.site ? found.site.name + (found.site.address ? ", " + found.site.address : "")
        : booking.site);
      fact(list, tr("js_m_name"), booking.name);
      fact(list, tr("js_m_phone"), booking.phone_masked);
      fact(list, tr("js_m_cccd"), "••••••••" + booking.cccd_last4);
      const active = booking.status === "booked";
      $("checkin").textContent = active ? tr("js_m_checkin", {
        opens: hhmm(booking.checkin_opens), closes: hhmm(booking.checkin_closes) }) : "";
      $("checkin").hidden = !active;
      $("keep").textContent = tr("js_m_keep");
      $("actions").hidden = !active;
      $("move").hidden = !(found.service && found.service.bookable);
      const banner = $("state-banner");
      banner.hidden = active;
      banner.className = "state-banner " + booking.status;
      banner.textContent = active ? "" : tr("js_m_status_" + booking.status);
      root.dataset.status = booking.status;
      $("booking-card").hidden = false;
      $("loading").hidden = true;
    }

    async function lookup() {
      $("loading").textContent = tr("js_loading");
      const reply = await request({ type: "booking_lookup", code: code });
      if (reply && reply.type === "booking") {
        booking = reply;
        if (data.new) {
          $("new-banner").textContent = tr("js_m_new");
          $("new-banner").hidden = false;
          history.replaceState(null, "", location.pathname); // a reload is no longer "new"
        }
        draw();
      } else if (reply && reply.code === "booking_not_found") {
        $("loading").hidden = true;
        $("not-found").hidden = false;
        root.dataset.status = "not_found";
      } else {
        $("loading").textContent = errorText(reply);
        $("loading").classList.add("problem");
      }
    }

    function said(message) {
      $("done").textContent = message;
      $("done").hidden = !message;
    }

    async function act(message, doneText) {
      $("manage-error").textContent = "";
      const reply = await request(message);
      if (reply && reply.type === "booking") {
        booking = reply;
        closePanels();
        $("new-banner").hidden = true;
        said(doneText);
        draw();
        window.scrollTo(0, 0);
        return true;
      }
      $("manage-error").textContent = errorText(reply);
      return false;
    }

    function closePanels() {
      $("cancel-confirm").hidden = true;
      $("move-panel").hidden = true;
      $("actions").hidden = !booking || booking.status !== "booked";
    }

    function openMove() {
      const found = findService(booking.site, booking.service);
      $("actions").hidden = true;
      $("move-panel").hidden = false;
      $("move-confirm").hidden = true;
      $("move-slots").replaceChildren();
      $("move-status").textContent = "";
      moveTo = null;
      moveDay = null;
      const days = $("move-days");
      days.classList.remove("picked");
      // A day chosen: the other days fold away (choosing it again shows them all), its slots below.
      dayButtons(days, found.service, function (day) {
        const again = days.classList.contains("picked");
        days.classList.toggle("picked", !again);
        document.querySelectorAll("#move-days .choice").forEach(function (b) {
          b.classList.toggle("selected", !again && b.dataset.day === day);
        });
        $("move-confirm").hidden = true;
        $("move-slots").replaceChildren();
        $("move-status").textContent = "";
        moveTo = null;
        moveDay = again ? null : day;
        if (moveDay) moveSlots();
      });
      $("move-panel").scrollIntoView({ block: "start" });
      $("move-title").focus({ preventScroll: true });
    }

    function moveSlots() {
      const day = moveDay;
      $("move-confirm").hidden = true;
      slotButtons($("move-slots"), $("move-status"), booking.site, booking.service, day, booking.start,
        function (slot) {
          moveTo = slot;
          document.querySelectorAll("#move-slots .choice").forEach(function (b) {
            b.classList.toggle("selected", b.dataset.start === slot.start);
          });
          const confirm = $("move-confirm");
          confirm.textContent = tr("js_submit_move") + ": " + slotText(slot) + ", " + dayLabel(day).short;
          confirm.hidden = false;
          confirm.scrollIntoView({ block: "nearest" });
        });
    }

    $("calendar").textContent = tr("js_m_calendar");
    $("move").textContent = tr("js_m_move");
    $("cancel").textContent = tr("js_m_cancel");
    $("cancel-question").textContent = tr("js_m_cancel_confirm");
    $("cancel-yes").textContent = tr("js_m_cancel_yes");
    $("cancel-no").textContent = tr("js_m_cancel_no");
    $("move-title").textContent = tr("js_m_move_title");
    $("move-title").tabIndex = -1;
    $("move-close").textContent = tr("js_m_move_cancel");
    $("move-confirm").textContent = tr("js_submit_move");

    $("cancel").addEventListener("click", function () {
      said("");
      $("actions").hidden = true;
      $("cancel-confirm").hidden = false;
      $("cancel-no").focus();
    });
    $("cancel-no").addEventListener("click", closePanels);
    $("cancel-yes").addEventListener("click", function () {
      act({ type: "booking_cancel", code: code }, ""); // the status line says it
    });
    $("move").addEventListener("click", function () { said(""); openMove(); });
    $("move-close").addEventListener("click", closePanels);
    $("move-confirm").addEventListener("click", async function () {
      if (!moveTo) return;
      const button = $("move-confirm");
      button.disabled = true;
      const moved = await act({ type: "booking_move", code: code, start: moveTo.start }, tr("js_m_moved"));
      button.disabled = false;
      if (!moved && moveDay) moveSlots(); // e.g. the slot was taken meanwhile: the day's slots again
    });

    lookup();
  }

  if (data.page === "book") bookPage();
  if (data.page === "book" || data.page === "none") findForm();
  if (data.page === "manage") managePage();
})();
