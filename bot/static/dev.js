"use strict";
// The simulator page: pick or add a user, type, tap; show what the bot sent back.
const state = { user: null, seen: 0, timer: null };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function addLine(who, node) {
  const li = document.createElement("li");
  li.className = who;
  li.appendChild(node);
  $("messages").appendChild(li);
  $("messages").scrollTop = $("messages").scrollHeight;
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
  button.addEventListener("click", () => tap(action));
  return button;
}

async function tap(action) {
  if (action.type === "uri") { addLine("system", bubble(`(opens ${action.uri})`)); return; }
  if (action.type === "message") { await sendText(action.text); return; }
  if (action.displayText) addLine("user", bubble(action.displayText));
  clearQuickReplies();
  await api("/dev/api/send", { user: state.user.id, type: "postback", data: action.data });
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

async function poll() {
  if (!state.user) return;
  const user = state.user.id;
  const deliveries = await api(`/dev/api/messages?user=${encodeURIComponent(user)}&after=${state.seen}`);
  if (!state.user || state.user.id !== user) return;
  for (const delivery of deliveries) {
    state.seen = delivery.n;
    for (const message of delivery.messages) showMessage(message);
  }
}

async function sendText(text) {
  addLine("user", bubble(text));
  clearQuickReplies();
  await api("/dev/api/send", { user: state.user.id, type: "message", text });
  poll();
}

async function send(type) {
  await api("/dev/api/send", { user: state.user.id, type });
  addLine("system", bubble(type === "follow" ? "(you added the bot as a friend)" : "(you blocked the bot)"));
  poll();
}

function select(user) {
  state.user = user;
  state.seen = 0;
  $("messages").replaceChildren();
  clearQuickReplies();
  $("chat").hidden = false;
  $("chat-title").textContent = `${user.name} (${user.language})`;
  for (const li of $("user-list").children) li.classList.toggle("active", li.dataset.id === user.id);
  poll();
}

async function refreshUsers() {
  const users = await api("/dev/api/users");
  $("user-list").replaceChildren(...users.map((user) => {
    const li = document.createElement("li");
    li.dataset.id = user.id;
    li.textContent = user.name;
    const small = document.createElement("small");
    small.textContent = user.language;
    li.appendChild(small);
    li.addEventListener("click", () => select(user));
    if (state.user && state.user.id === user.id) li.classList.add("active");
    return li;
  }));
  return users;
}

$("new-user").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const user = await api("/dev/api/users", { name: form.get("name"), language: form.get("language") });
  await refreshUsers();
  select(user);
  await send("follow");
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.user) return;
  $("text").value = "";
  await sendText(text);
});

$("unfollow").addEventListener("click", () => send("unfollow"));
$("refollow").addEventListener("click", () => send("follow"));

refreshUsers();
state.timer = setInterval(poll, 400);
