// The staff console: live queue with an alarm for urgent cases, live transcript, drafts kept,
// confirmation before what cannot be undone, no double submits.
"use strict";

(function () {
  let audio = null;
  const SOUND = "kosodate.console.sound";

  function enableSound() {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    window.localStorage.setItem(SOUND, "on");
    const button = document.getElementById("sound");
    if (button) {
      button.setAttribute("aria-pressed", "true");
      button.textContent = button.dataset.on;
    }
  }

  function beep() {
    if (!audio) return;
    const now = audio.currentTime;
    [0, 0.35, 0.7].forEach((offset) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, now + offset + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.3);
    });
  }

  class SignedOut extends Error {}

  async function fetchOk(url, as) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: as === "json" ? "application/json" : "text/html" } });
    if (response.status === 401) throw new SignedOut();
    if (!response.ok) throw new Error(String(response.status));
    return as === "json" ? response.json() : response.text();
  }

  function signedOut() {
    // Loud, not a silent redirect: a screen left to watch the queue must not look as if it still does.
    const banner = document.getElementById("signed-out");
    if (banner && banner.hidden) {
      banner.hidden = false;
      document.title = banner.dataset.title;
      beep();
    }
  }

  function watchQueue(table) {
    const tbody = table.querySelector("tbody");
    const alarm = document.getElementById("alarm");
    let changes = table.dataset.changes;
    let known = null;
    let lastRows = Date.now();

    function raise() {
      alarm.hidden = false;
      document.title = table.dataset.urgentTitle + " " + table.dataset.title;
      beep();
    }
    document.getElementById("alarm-ok").addEventListener("click", () => {
      alarm.hidden = true;
      document.title = table.dataset.title;
    });
    const sound = document.getElementById("sound");
    sound.addEventListener("click", () => { enableSound(); beep(); });
    if (window.localStorage.getItem(SOUND) === "on") {
      // Browsers start sound only after a click on this page: the first click anywhere turns it on.
      document.addEventListener("click", () => enableSound(), { once: true });
    }

    async function tick() {
      try {
        const state = await fetchOk(table.dataset.state, "json");
        if (known === null) {
          // On opening the page, any urgent chat nobody has taken yet is an alarm too.
          known = new Set(state.urgent.filter((user) => !state.unheld_urgent.includes(user)));
        }
        const fresh = state.urgent.filter((user) => !known.has(user));
        if (String(state.changes) !== changes || Date.now() - lastRows > 30000) {
          tbody.innerHTML = await fetchOk(table.dataset.rows, "html");
          changes = String(state.changes);
          lastRows = Date.now();
        }
        if (fresh.length) raise();
        known = new Set(state.urgent);
      } catch (error) {
        if (error instanceof SignedOut) { signedOut(); return; }
      }
      window.setTimeout(tick, 2000);
    }
    tick();
  }

  function watchEntries(box) {
    async function tick() {
      try {
        const html = await fetchOk(box.dataset.src, "html");
        const current = box.querySelector(".transcript");
        const holder = document.createElement("div");
        holder.innerHTML = html;
        const next = holder.querySelector(".transcript");
        if (next && (!current || next.dataset.count !== current.dataset.count)) {
          box.replaceChildren(next);
        }
      } catch (error) {
        if (error instanceof SignedOut) { signedOut(); return; }
      }
      window.setTimeout(tick, 3000);
    }
    window.setTimeout(tick, 3000);
  }

  function keepDrafts() {
    // What staff type survives a failed send, a sign-out or a reload, in this tab only.
    document.querySelectorAll("textarea[data-draft]").forEach((area) => {
      const key = "kosodate.draft." + area.dataset.draft;
      const sent = document.querySelector(".flash.ok[data-sent]");
      if (sent) window.sessionStorage.removeItem(key);
      else if (!area.value && window.sessionStorage.getItem(key)) area.value = window.sessionStorage.getItem(key);
      area.addEventListener("input", () => window.sessionStorage.setItem(key, area.value));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.getElementById("queue");
    if (table) watchQueue(table);
    const entries = document.getElementById("entries");
    if (entries) watchEntries(entries);
    keepDrafts();
    document.querySelectorAll("form[method=post]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
          event.preventDefault();
          return;
        }
        form.querySelectorAll("button").forEach((button) => { button.disabled = true; });
      });
    });
  });
})();
