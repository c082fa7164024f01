// Manager overview: re-fetch the live part of the page every few seconds (it is rendered
// by the server, so this script only swaps it in); mark it stale while the server is away.
(function () {
  "use strict";
  const root = document.getElementById("live");
  const seconds = Number(root.dataset.refresh || 3);
  let running = false;

  async function refresh() {
    if (running || document.hidden) return;
    running = true;
    try {
      const response = await fetch(root.dataset.src, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        location.assign("/manager/login?next=" + encodeURIComponent(location.pathname + location.search));
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      root.innerHTML = await response.text();
      root.classList.remove("stale");
    } catch (error) {
      root.classList.add("stale");
    } finally {
      running = false;
    }
  }

  setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
})();
