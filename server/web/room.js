// The signaling side of a room: one WebSocket with the subprotocol
// zego-signal.v1 (docs/protocol.md), requests with a seq and one reply each,
// events pushed by the server, heartbeats that also give the server's clock.
// A socket lost while logged in is reconnected with backoff and the session
// resumed, as libzegoroom does (docs/protocol.md, "Sessions, resumption and
// reconnecting"), until the server's reconnect window has passed.

const REQUEST_TIMEOUT_MS = 10000;
const CONNECT_TIMEOUT_MS = 5000;
const MAX_PENDING_REQUESTS = 64;
const MAX_REDIRECTS = 3;
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 10000;
const DEFAULT_RECONNECT_WINDOW_MS = 30000;
const HEARTBEATS_MISSED = 3; // silence for this many intervals: the link is gone

// Error codes, as libzegoroom reports them.
export const ERR_NOT_LOGGED_IN = 1000002;
export const ERR_CONNECT_FAILED = 1002030;
export const ERR_TEMPORARILY_DISCONNECTED = 1002051;
export const ERR_RECONNECT_FAILED = 1002053;
const ERR_SESSION_EXPIRED = 1902005;
// Login errors worth trying again: server full, shutting down, internal,
// heartbeat timeout, rate limited, and no connection or reply at all.
const RETRYABLE = new Set([1902001, 1902002, 1902003, 1902004, 1900013, ERR_CONNECT_FAILED, 1002031, ERR_NOT_LOGGED_IN]);

// Jittered exponential backoff: the delay doubles from initial up to max,
// and is then drawn from its upper half.
function backoffMs(attempt) {
  let d = BACKOFF_INITIAL_MS;
  for (let i = 0; i < attempt && d < BACKOFF_MAX_MS; i++) d *= 2;
  d = Math.min(d, BACKOFF_MAX_MS);
  const half = Math.floor(d / 2);
  return d - half + Math.floor(Math.random() * (half + 1));
}

export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Room {
  // handlers: onState({state, reason, code, message}), onEvent(msg), onLog(text),
  // onReconnected(loginReply): back after a lost connection (loginReply.resumed
  // says whether the session survived; if not, the server forgot its streams).
  constructor(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.seq = 0;
    this.pending = new Map();
    this.state = 'DISCONNECTED';
    this.clockOffsetMs = 0; // server clock minus ours
    this.rttMs = 0;
    this.heartbeatTimer = null;
    this.lastReceived = 0;
    this.info = null;
    this.params = null;     // what login was called with
    this.session = null;    // {id, resumeToken} of the session to resume
    this.reconnectWindowMs = DEFAULT_RECONNECT_WINDOW_MS;
    this.reconnect = null;  // while reconnecting: {attempt, giveUpAt, timer, giveUpTimer}
  }

  setState(state, reason = '', code = 0, message = '') {
    this.state = state;
    this.handlers.onState({ state, reason, code, message });
  }

  serverNowMs() {
    return Date.now() + this.clockOffsetMs;
  }

  get reconnecting() {
    return this.reconnect !== null;
  }

  connect(url) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url, 'zego-signal.v1');
      } catch (e) {
        reject(new RequestError(ERR_CONNECT_FAILED, `cannot open ${url}: ${e.message}`));
        return;
      }
      this.ws = ws;
      let opened = false;
      // A host that does not answer at all would keep the socket CONNECTING for minutes.
      const timer = setTimeout(() => {
        if (!opened && this.ws === ws) {
          this.ws = null;
          ws.onclose = null;
          ws.close();
          reject(new RequestError(ERR_CONNECT_FAILED, `no connection to ${url} within ${CONNECT_TIMEOUT_MS / 1000} s`));
        }
      }, CONNECT_TIMEOUT_MS);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        this.lastReceived = Date.now();
        resolve();
      };
      ws.onmessage = (ev) => {
        this.lastReceived = Date.now();
        this.receive(ev.data);
      };
      ws.onclose = (ev) => {
        clearTimeout(timer);
        if (this.ws !== ws) return;
        this.ws = null;
        this.stopHeartbeat();
        this.failPending('the signaling socket closed');
        if (!opened) reject(new RequestError(ERR_CONNECT_FAILED, `cannot connect to ${url}`));
        else if (this.state === 'CONNECTED') this.lost(`the signaling socket closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`);
      };
    });
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this.handlers.onLog(`unreadable message from the server: ${String(text).slice(0, 200)}`);
      return;
    }
    if (msg.type === 'reply') {
      const p = this.pending.get(msg.seq);
      if (!p) return;
      this.pending.delete(msg.seq);
      clearTimeout(p.timer);
      if (msg.code === 0) p.resolve(msg);
      else {
        const err = new RequestError(msg.code, msg.message || `error ${msg.code}`);
        err.redirect = msg.redirect;
        p.reject(err);
      }
      return;
    }
    this.handlers.onEvent(msg);
    if (msg.type === 'kicked_out') {
      // Another login took the user_id: the session is over, no reconnecting.
      this.session = null;
      this.close();
      this.setState('DISCONNECTED', 'KICKED_OUT', msg.code, msg.message);
    } else if (msg.type === 'going_away' && this.state === 'CONNECTED') {
      // The server shuts down and keeps sessions for the window: come back when it says.
      this.close();
      this.lost(`the server is going away (${msg.code}${msg.message ? ': ' + msg.message : ''})`, msg.reconnect_after_ms ?? -1);
    }
  }

  request(type, fields = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new RequestError(ERR_NOT_LOGGED_IN, 'not connected'));
    if (this.pending.size >= MAX_PENDING_REQUESTS) return Promise.reject(new RequestError(1900013, 'too many requests waiting for replies'));
    this.seq = this.seq >= 4294967295 ? 1 : this.seq + 1;
    const seq = this.seq;
    const msg = { type, seq, ...fields };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new RequestError(1002031, `no reply to ${type} within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.ws.send(JSON.stringify(msg));
    });
  }

  // One connection and login, following redirects; resumes this.session
  // when there is one.  Throws a RequestError.
  async connectAndLogin() {
    const { server, appId, roomId, userId, userName, token } = this.params;
    const login = { version: 1, app_id: appId, room_id: roomId, user_id: userId, user_update: true, client: 'zego-room web page' };
    if (userName) login.user_name = userName;
    if (token) login.token = token;
    if (this.session) {
      login.session_id = this.session.id;
      login.resume_token = this.session.resumeToken;
    }
    let url = server;
    for (let hop = 0; ; hop++) {
      try {
        await this.connect(url);
        const sent = Date.now();
        const reply = await this.request('login', login);
        this.info = reply;
        this.session = { id: reply.session_id, resumeToken: reply.resume_token }; // single-use: the next one
        this.reconnectWindowMs = reply.reconnect_window_ms || DEFAULT_RECONNECT_WINDOW_MS;
        this.rttMs = Date.now() - sent;
        this.clockOffsetMs = reply.server_time_ms + this.rttMs / 2 - Date.now();
        this.startHeartbeat(reply.heartbeat_interval_ms || 10000);
        return reply;
      } catch (e) {
        this.close();
        if (e.code === 1900009 && e.redirect && hop < MAX_REDIRECTS) {
          this.handlers.onLog(`login redirected to ${e.redirect}`);
          url = e.redirect;
          continue;
        }
        throw e;
      }
    }
  }

  // Returns the login reply; the room state says how it went.
  async login(params) {
    this.stopReconnecting();
    this.params = params;
    this.session = null;
    this.setState('CONNECTING');
    try {
      const reply = await this.connectAndLogin();
      this.setState('CONNECTED');
      return reply;
    } catch (e) {
      this.setState('DISCONNECTED', 'LOGIN_FAILED', e.code || ERR_CONNECT_FAILED, e.message);
      throw e;
    }
  }

  // The socket went away while logged in: CONNECTING (RECONNECTING) and
  // attempts with backoff until the server's reconnect window has passed.
  // firstDelayMs < 0: the backoff's.
  lost(why, firstDelayMs = -1) {
    if (this.reconnect) return;
    this.handlers.onLog(`connection lost: ${why}; reconnecting for up to ${this.reconnectWindowMs / 1000} s`);
    const r = { attempt: 0, giveUpAt: Date.now() + this.reconnectWindowMs, timer: null, giveUpTimer: null };
    this.reconnect = r;
    r.giveUpTimer = setTimeout(() => this.giveUp(), this.reconnectWindowMs);
    this.setState('CONNECTING', 'RECONNECTING', ERR_TEMPORARILY_DISCONNECTED, why);
    this.scheduleAttempt(firstDelayMs >= 0 ? firstDelayMs : backoffMs(r.attempt++));
  }

  scheduleAttempt(delayMs) {
    const r = this.reconnect;
    if (!r) return;
    this.handlers.onLog(`reconnecting in ${delayMs} ms`);
    r.timer = setTimeout(() => this.attempt(), delayMs);
  }

  async attempt() {
    const r = this.reconnect;
    if (!r || this.reconnect !== r) return;
    try {
      const reply = await this.connectAndLogin();
      if (this.reconnect !== r) { // given up or logged out meanwhile
        this.close();
        return;
      }
      this.stopReconnecting();
      this.handlers.onLog(`reconnected: ${reply.resumed ? 'session resumed' : 'new session'} ${reply.session_id}`);
      this.setState('CONNECTED', 'RECONNECTED');
      this.handlers.onReconnected(reply);
    } catch (e) {
      if (this.reconnect !== r) return;
      if (e.code === ERR_SESSION_EXPIRED) {
        // The server no longer knows the session (its window passed, or it
        // restarted): log in afresh, which the room sees as a new user.
        this.handlers.onLog('the session to resume is gone; logging in afresh');
        this.session = null;
        this.scheduleAttempt(0);
      } else if (RETRYABLE.has(e.code) || !e.code) {
        this.handlers.onLog(`reconnecting: ${e.code || ''} ${e.message}`);
        this.scheduleAttempt(backoffMs(r.attempt++));
      } else {
        this.stopReconnecting();
        this.session = null;
        this.setState('DISCONNECTED', 'RECONNECT_FAILED', e.code, e.message);
      }
    }
  }

  giveUp() {
    const r = this.reconnect;
    if (!r) return;
    this.stopReconnecting();
    this.close();
    this.session = null;
    this.setState('DISCONNECTED', 'RECONNECT_FAILED', ERR_RECONNECT_FAILED,
      `no connection within the server's reconnect window (${this.reconnectWindowMs / 1000} s); log in again`);
  }

  stopReconnecting() {
    const r = this.reconnect;
    if (!r) return;
    clearTimeout(r.timer);
    clearTimeout(r.giveUpTimer);
    this.reconnect = null;
  }

  async logout() {
    try {
      if (this.state === 'CONNECTED') await this.request('logout');
    } catch (e) {
      this.handlers.onLog(`logout: ${e.code} ${e.message}`);
    }
    this.stopReconnecting();
    this.session = null;
    this.close();
    this.setState('DISCONNECTED', 'LOGOUT');
  }

  failPending(why) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RequestError(ERR_CONNECT_FAILED, why));
    }
    this.pending.clear();
  }

  close() {
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.failPending('the signaling socket closed');
  }

  startHeartbeat(intervalMs) {
    this.stopHeartbeat();
    const every = Math.max(1000, intervalMs);
    this.heartbeatTimer = setInterval(async () => {
      // A link that drops without a close (a network gone) is only noticed by its silence.
      if (Date.now() - this.lastReceived > HEARTBEATS_MISSED * every && this.state === 'CONNECTED') {
        this.close();
        this.lost(`nothing from the server for ${HEARTBEATS_MISSED} heartbeat intervals`);
        return;
      }
      try {
        const sent = Date.now();
        const reply = await this.request('heartbeat', { client_time_ms: sent });
        const now = Date.now();
        this.rttMs = now - sent;
        this.clockOffsetMs = reply.server_time_ms + this.rttMs / 2 - now;
      } catch (e) {
        this.handlers.onLog(`heartbeat: ${e.code} ${e.message}`);
      }
    }, every);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
