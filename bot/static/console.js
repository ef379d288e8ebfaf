// The staff console: live queue with an alarm for urgent cases, live transcript, no double submits.
"use strict";

(function () {
  let audio = null;

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

  async function fetchOk(url, as) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: as === "json" ? "application/json" : "text/html" } });
    if (response.status === 401) {
      window.location.reload();   // signed out (idle timeout): the page goes to sign-in
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(String(response.status));
    return as === "json" ? response.json() : response.text();
  }

  function urgentIn(tbody) {
    return new Set(Array.from(tbody.querySelectorAll("tr.urgent:not(.held)")).map((tr) => tr.dataset.user));
  }

  function watchQueue(table) {
    const tbody = table.querySelector("tbody");
    const alarm = document.getElementById("alarm");
    let changes = table.dataset.changes;
    let known = urgentIn(tbody);
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
    document.getElementById("sound").addEventListener("click", (event) => {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      event.currentTarget.setAttribute("aria-pressed", "true");
      event.currentTarget.disabled = true;
      beep();
    });

    async function tick() {
      try {
        const state = await fetchOk(table.dataset.state, "json");
        const fresh = state.urgent.filter((user) => !known.has(user));
        if (String(state.changes) !== changes || Date.now() - lastRows > 30000) {
          tbody.innerHTML = await fetchOk(table.dataset.rows, "html");
          changes = String(state.changes);
          lastRows = Date.now();
        }
        if (fresh.length) raise();
        known = new Set(state.urgent);
      } catch (error) { /* next tick tries again */ }
      window.setTimeout(tick, 2000);
    }
    window.setTimeout(tick, 2000);
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
      } catch (error) { /* next tick tries again */ }
      window.setTimeout(tick, 3000);
    }
    window.setTimeout(tick, 3000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.getElementById("queue");
    if (table) watchQueue(table);
    const entries = document.getElementById("entries");
    if (entries) watchEntries(entries);
    document.querySelectorAll("form[method=post]").forEach((form) => {
      form.addEventListener("submit", () => {
        form.querySelectorAll("button").forEach((button) => { button.disabled = true; });
      });
    });
  });
})();
