// The debug page's wiring: the login form, the room's users and streams kept
// up to date from its events, the event log, players and the publisher.
// Form fields can be filled from the URL fragment (#app_id=1&room_id=r&...),
// which never reaches a server.

import { Room } from './room.js';
import { Player, sharedAudioContext } from './player.js';
import { Publisher } from './publisher.js';

const MAX_LOG_ENTRIES = 500;
const MAX_PLAYERS = 16;
const MAX_LISTED = 10000; // as many users or streams as one protocol message may list

const $ = (id) => document.getElementById(id);
const users = new Map();   // user_id -> user
const streams = new Map(); // stream_id -> stream
const players = new Map(); // stream_id -> {player, el}
let room = null;
let publisher = null;

// For tests and for poking at from the console.
window.zegoPage = { get room() { return room; }, players, get publisher() { return publisher; }, users, streams };

function log(text) {
  const li = document.createElement('li');
  const time = document.createElement('span');
  time.className = 'time';
  time.textContent = new Date().toISOString().slice(11, 23);
  li.append(time, text);
  const list = $('log');
  list.append(li);
  while (list.childElementCount > MAX_LOG_ENTRIES) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function describe(msg) {
  const text = JSON.stringify(msg);
  return text.length > 2000 ? text.slice(0, 2000) + '…' : text; // a login reply may list a whole room
}

function setRoomState({ state, reason, code, message }) {
  const s = $('room-state');
  s.textContent = state;
  s.dataset.state = state;
  $('room-reason').textContent = [reason, code ? String(code) : ''].filter(Boolean).join(' · ');
  const err = $('room-error');
  if (code && message) {
    err.hidden = false;
    err.textContent = `${code}: ${message}`;
    err.dataset.code = String(code);
  } else if (state !== 'DISCONNECTED') {
    err.hidden = true;
    err.textContent = '';
    delete err.dataset.code;
  }
  log(`room state ${state}${reason ? ' (' + reason + ')' : ''}${code ? ' code ' + code : ''}${message ? ': ' + message : ''}`);
  const connected = state === 'CONNECTED';
  $('login').disabled = state !== 'DISCONNECTED';
  $('logout').disabled = state === 'DISCONNECTED';
  $('publish').disabled = !connected || !!publisher;
  for (const el of document.querySelectorAll('#login-form input')) el.readOnly = state !== 'DISCONNECTED';
  if (state === 'DISCONNECTED') leftRoom();
}

function leftRoom() {
  for (const { player } of players.values()) player.stop();
  if (publisher) publisher.stop();
  users.clear();
  streams.clear();
  renderUsers();
  renderStreams();
}

// A line of the users or streams list: its id in bold, then who.
function listEntry(idText, whoText) {
  const li = document.createElement('li');
  const id = document.createElement('strong');
  id.textContent = idText;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = whoText;
  li.append(id, who);
  return li;
}

function renderUsers() {
  const ul = $('users');
  ul.replaceChildren();
  for (const u of users.values()) {
    const li = listEntry(u.user_id, u.user_name || '');
    li.dataset.userId = u.user_id;
    ul.append(li);
  }
  $('user-count').textContent = String(users.size);
}

function renderStreams() {
  const ul = $('streams');
  ul.replaceChildren();
  for (const s of streams.values()) {
    const li = listEntry(s.stream_id, `by ${s.user_name || s.user_id}`);
    li.dataset.streamId = s.stream_id;
    const extra = document.createElement('span');
    extra.className = 'extra';
    extra.textContent = s.extra_info || '';
    const play = document.createElement('button');
    play.type = 'button';
    play.className = 'play small';
    play.textContent = players.has(s.stream_id) ? 'Playing' : 'Play';
    play.disabled = players.has(s.stream_id);
    play.onclick = () => startPlaying(s.stream_id);
    li.append(extra, play);
    ul.append(li);
  }
  $('stream-count').textContent = String(streams.size);
}

// Back after a lost connection.  The reply lists the room as it is now:
// what changed while away is reported as additions and deletions (events
// missed meanwhile are not replayed), then every player and the publisher
// pick up again, asking afresh when the server forgot the session.
function onReconnected(reply) {
  const nowUsers = new Map((reply.users || []).slice(0, MAX_LISTED).map((u) => [u.user_id, u]));
  const nowStreams = new Map((reply.streams || []).slice(0, MAX_LISTED).map((st) => [st.stream_id, st]));
  const diff = (before, after) => ({
    added: [...after.keys()].filter((k) => !before.has(k)),
    deleted: [...before.keys()].filter((k) => !after.has(k)),
  });
  const du = diff(users, nowUsers), ds = diff(streams, nowStreams);
  log(`${reply.resumed ? 'session resumed' : 'logged in afresh (the session was gone)'}: session ${reply.session_id}; `
    + `while away: users +[${du.added.join(', ')}] -[${du.deleted.join(', ')}], streams +[${ds.added.join(', ')}] -[${ds.deleted.join(', ')}]`);
  users.clear();
  streams.clear();
  for (const [k, u] of nowUsers) users.set(k, u);
  for (const [k, st] of nowStreams) streams.set(k, st);
  renderUsers();
  renderStreams();
  for (const { player } of players.values()) player.reconnected(reply.resumed);
  if (publisher) publisher.reconnected(reply.resumed);
}

function onEvent(msg) {
  log(`${msg.type}: ${describe(msg)}`);
  if (msg.type === 'user_update') {
    for (const u of msg.users || []) {
      if (msg.update === 'add' && users.size < MAX_LISTED) users.set(u.user_id, u);
      else if (msg.update === 'delete') users.delete(u.user_id);
    }
    renderUsers();
  } else if (msg.type === 'stream_update') {
    for (const s of msg.streams || []) {
      if (msg.update === 'add' && streams.size < MAX_LISTED) streams.set(s.stream_id, s);
      else if (msg.update === 'delete') streams.delete(s.stream_id);
    }
    renderStreams();
  } else if (msg.type === 'stream_extra_info_update') {
    for (const s of msg.streams || []) {
      const known = streams.get(s.stream_id);
      if (known) known.extra_info = s.extra_info || '';
    }
    renderStreams();
  }
}

async function login(ev) {
  ev.preventDefault();
  sharedAudioContext(); // a user gesture: audio may start
  const appId = Number($('app-id').value.trim());
  if (!Number.isInteger(appId) || appId < 0 || appId > 4294967295) {
    setRoomState({ state: 'DISCONNECTED', reason: 'LOGIN_FAILED', code: 0, message: 'the app ID is a number from 0 to 4294967295' });
    return;
  }
  room = new Room({ onState: setRoomState, onEvent, onLog: log, onReconnected });
  try {
    const reply = await room.login({
      server: $('server').value.trim(),
      appId,
      roomId: $('room-id').value.trim(),
      userId: $('user-id').value.trim(),
      userName: $('user-name').value,
      token: $('token').value.trim(),
    });
    log(`logged in: session ${reply.session_id}, ${(reply.users || []).length} other users, ${(reply.streams || []).length} streams`);
    users.clear();
    streams.clear();
    for (const u of (reply.users || []).slice(0, MAX_LISTED)) users.set(u.user_id, u);
    for (const s of (reply.streams || []).slice(0, MAX_LISTED)) streams.set(s.stream_id, s);
    renderUsers();
    renderStreams();
  } catch (e) {
    // The room state already says what went wrong.
  }
}

function startPlaying(streamId) {
  if (!room || room.state !== 'CONNECTED' || players.has(streamId)) return;
  if (players.size >= MAX_PLAYERS) {
    log(`at most ${MAX_PLAYERS} streams play at once; stop one first`);
    return;
  }
  const el = $('player-template').content.firstElementChild.cloneNode(true);
  el.dataset.streamId = streamId;
  el.querySelector('.stream-id').textContent = streamId;
  const stateEl = el.querySelector('.state');
  const ui = {
    canvas: el.querySelector('canvas'),
    setState(state, code, message) {
      stateEl.textContent = code ? `${state} (${code}: ${message})` : state;
      stateEl.dataset.state = state;
      log(`player ${streamId}: ${state}${code ? ` code ${code}: ${message}` : ''}`);
    },
    setQuality(text) { el.querySelector('.quality').textContent = text; },
    setNote(text) { el.querySelector('.note').textContent = text; },
  };
  const player = new Player(room, streamId, ui, log);
  players.set(streamId, { player, el });
  el.querySelector('.stop').onclick = async () => {
    await player.stop();
  };
  const origStop = player.stop.bind(player);
  player.stop = async () => {
    await origStop();
    el.remove();
    players.delete(streamId);
    renderStreams();
  };
  $('players').append(el);
  renderStreams();
  player.start();
}

async function startPublishing(ev) {
  ev.preventDefault();
  if (!room || room.state !== 'CONNECTED' || publisher) return;
  const [width, height] = $('publish-size').value.split('x').map(Number);
  const streamId = $('publish-stream-id').value.trim();
  const ui = {
    preview: $('preview'),
    setState(state, code, message) {
      const s = $('publisher-state');
      s.textContent = state;
      s.dataset.state = state;
      $('publisher-reason').textContent = code ? `${code}: ${message}` : '';
      log(`publisher ${streamId}: ${state}${code ? ` code ${code}: ${message}` : ''}`);
      $('unpublish').disabled = state === 'NO_PUBLISH';
      $('preview').hidden = state === 'NO_PUBLISH';
      if (state === 'NO_PUBLISH') {
        publisher = null;
        $('publisher-quality').textContent = '';
        $('publish').disabled = !room || room.state !== 'CONNECTED';
      }
    },
    setQuality(text) { $('publisher-quality').textContent = text; },
  };
  publisher = new Publisher(room, streamId, ui, log, { width, height, frameRate: 30 });
  $('publish').disabled = true;
  await publisher.start();
}

function fillForm() {
  // Not URLSearchParams: it would read the '+' of a base64 token as a space.
  const params = new Map();
  for (const part of location.hash.slice(1).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      params.set(decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1)));
    } catch {
      // a malformed escape: leave that field at its default
    }
  }
  const wsScheme = location.protocol === 'https:' ? 'wss' : 'ws';
  $('server').value = params.get('server') || `${wsScheme}://${location.host}/ws`;
  $('app-id').value = params.get('app_id') || '1';
  $('room-id').value = params.get('room_id') || 'room-1';
  const suffix = Math.random().toString(36).slice(2, 8);
  $('user-id').value = params.get('user_id') || `web-${suffix}`;
  $('user-name').value = params.get('user_name') || `browser ${suffix}`;
  $('token').value = params.get('token') || '';
  $('publish-stream-id').value = params.get('stream_id') || `${$('user-id').value}-cam`;
  if (!window.isSecureContext) log('this page is not a secure context: WebCodecs and the camera need https, localhost or 127.0.0.1');
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', async () => {
  for (const { player } of [...players.values()]) await player.stop();
  if (publisher) await publisher.stop();
  if (room) await room.logout();
});
$('publish-form').addEventListener('submit', startPublishing);
$('unpublish').addEventListener('click', () => publisher && publisher.stop());
$('clear-log').addEventListener('click', () => $('log').replaceChildren());
window.addEventListener('beforeunload', () => room && room.close());
fillForm();
