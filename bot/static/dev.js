"use strict";
// The simulator page: pick or add a user, type, tap; show what the bot sent back.
const state = { user: null, users: new Map(), seen: 0, timer: null, polling: null, lastError: null };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function scrollToEnd() { $("messages").scrollTop = $("messages").scrollHeight; }

function addLine(who, node) {
  const li = document.createElement("li");
  li.className = who;
  li.appendChild(node);
  $("messages").appendChild(li);
  scrollToEnd();
}

// Shown in the chat, once while it lasts (the poll timer would repeat it every 400 ms).
function report(error) {
  const text = `(error: ${error.message})`;
  if (text === state.lastError) return;
  state.lastError = text;
  addLine("system", bubble(text));
}

// Sends one event; says so in the chat when the webhook did not take it.
async function sendEvent(event) {
  const result = await api("/dev/api/send", { user: state.user.id, ...event });
  if (result.status !== 200) addLine("system", bubble(`(the webhook answered ${result.status})`));
  state.users.set(result.user.id, result.user);
  if (state.user && state.user.id === result.user.id) showFollowing(result.user);
  return result;
}

function bubble(text) {
  const div = document.createElement("div");
  div.className = "bubble";
  div.textContent = text;  // never innerHTML: user and bot text is shown as text
  return div;
}

function actionButton(action) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = action.label;
  button.addEventListener("click", () => tap(action).catch(report));
  return button;
}

async function tap(action) {
  if (!state.user || !state.user.following) return;
  if (action.type === "uri") { addLine("system", bubble(`(opens ${action.uri})`)); return; }
  if (action.type === "message") { await sendText(action.text); return; }
  if (action.displayText) addLine("user", bubble(action.displayText));
  clearQuickReplies();
  await sendEvent({ type: "postback", data: action.data });
  poll();
}

function clearQuickReplies() { $("quick-replies").replaceChildren(); }

function showMessage(message) {
  if (message.type === "text") {
    addLine("bot", bubble(message.text));
  } else if (message.type === "template") {
    const card = document.createElement("div");
    card.className = "card";
    const p = document.createElement("p");
    p.textContent = message.template.text;
    card.appendChild(p);
    for (const action of message.template.actions) card.appendChild(actionButton(action));
    addLine("bot", card);
  } else {
    addLine("system", bubble(`[${message.type}]`));
  }
  if (message.quickReply) {
    clearQuickReplies();
    for (const item of message.quickReply.items) $("quick-replies").appendChild(actionButton(item.action));
  }
}

// One poll at a time (the timer and a send may both ask), and each delivery shown once.
function poll() {
  if (!state.polling) state.polling = pollOnce().catch(report).finally(() => { state.polling = null; });
  return state.polling;
}

async function pollOnce() {
  if (!state.user) return;
  const user = state.user.id;
  const deliveries = await api(`/dev/api/messages?user=${encodeURIComponent(user)}&after=${state.seen}`);
  state.lastError = null;
  if (!state.user || state.user.id !== user) return;
  for (const delivery of deliveries) {
    if (delivery.n <= state.seen) continue;
    state.seen = delivery.n;
    for (const message of delivery.messages) showMessage(message);
  }
  if (deliveries.length) scrollToEnd();  // the quick replies took room from the chat
}

async function sendText(text) {
  addLine("user", bubble(text));
  clearQuickReplies();
  await sendEvent({ type: "message", text });
  poll();
}

async function send(type) {
  await sendEvent({ type });
  addLine("system", bubble(type === "follow" ? "(you added the bot as a friend)" : "(you blocked the bot)"));
  if (type === "unfollow") clearQuickReplies();
  poll();
}

// As in LINE: a user who blocked the bot can only unblock it, not write to it.
function showFollowing(user) {
  state.user = user;
  $("unfollow").hidden = !user.following;
  $("refollow").hidden = user.following;
  $("refollow").textContent = user.blocked ? "Unblock" : "Add friend";
  $("text").disabled = $("send").disabled = !user.following;
  $("text").placeholder = user.following ? "Aa" : "You blocked this account";
}

function select(user) {
  state.user = user;
  state.seen = 0;
  $("messages").replaceChildren();
  clearQuickReplies();
  $("chat").hidden = false;
  $("empty").hidden = true;
  $("chat-title").textContent = `${user.name} (${user.language})`;
  showFollowing(user);
  for (const li of $("user-list").children) li.classList.toggle("active", li.dataset.id === user.id);
  poll();
}

async function refreshUsers() {
  const users = await api("/dev/api/users");
  for (const user of users) state.users.set(user.id, user);
  $("user-list").replaceChildren(...users.map((user) => {
    const li = document.createElement("li");
    li.dataset.id = user.id;
    li.textContent = user.name;
    const small = document.createElement("small");
    small.textContent = user.language;
    li.appendChild(small);
    li.addEventListener("click", () => select(state.users.get(user.id)));
    if (state.user && state.user.id === user.id) li.classList.add("active");
    return li;
  }));
  return users;
}

$("new-user").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  (async () => {
    const user = await api("/dev/api/users", { name: form.get("name"), language: form.get("language") });
    await refreshUsers();
    select(user);
    await send("follow");
    refreshUsers();
  })().catch(report);
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.user || !state.user.following) return;
  $("text").value = "";
  sendText(text).catch(report);
});

$("unfollow").addEventListener("click", () => send("unfollow").catch(report));
$("refollow").addEventListener("click", () => send("follow").catch(report));

refreshUsers().catch(report);
state.timer = setInterval(poll, 400);
