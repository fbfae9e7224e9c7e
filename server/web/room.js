// The signaling side of a room: one WebSocket with the subprotocol
// zego-signal.v1 (docs/protocol.md), requests with a seq and one reply each,
// events pushed by the server, heartbeats that also give the server's clock.

const REQUEST_TIMEOUT_MS = 10000;
const MAX_PENDING_REQUESTS = 64;
const MAX_REDIRECTS = 3;

export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Room {
  // handlers: onState({state, reason, code, message}), onEvent(msg), onLog(text)
  constructor(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.seq = 0;
    this.pending = new Map();
    this.state = 'DISCONNECTED';
    this.clockOffsetMs = 0; // server clock minus ours
    this.rttMs = 0;
    this.heartbeatTimer = null;
    this.info = null;
  }

  setState(state, reason = '', code = 0, message = '') {
    this.state = state;
    this.handlers.onState({ state, reason, code, message });
  }

  serverNowMs() {
    return Date.now() + this.clockOffsetMs;
  }

  connect(url) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url, 'zego-signal.v1');
      } catch (e) {
        reject(new RequestError(1002030, `cannot open ${url}: ${e.message}`));
        return;
      }
      this.ws = ws;
      let opened = false;
      ws.onopen = () => { opened = true; resolve(); };
      ws.onmessage = (ev) => this.receive(ev.data);
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.stopHeartbeat();
        for (const p of this.pending.values()) p.reject(new RequestError(1002030, 'the signaling socket closed'));
        this.pending.clear();
        if (!opened) {
          reject(new RequestError(1002030, `cannot connect to ${url}`));
        } else if (this.state !== 'DISCONNECTED') {
          this.setState('DISCONNECTED', 'CONNECTION_LOST', 1002030, `the signaling socket closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`);
        }
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
    if (msg.type === 'kicked_out') {
      this.setState('DISCONNECTED', 'KICKED_OUT', msg.code, msg.message);
    } else if (msg.type === 'going_away') {
      this.setState('DISCONNECTED', 'SERVER_GOING_AWAY', msg.code, msg.message);
    }
    this.handlers.onEvent(msg);
  }

  request(type, fields = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new RequestError(1000002, 'not connected'));
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

  // Returns the login reply; the room state says how it went.
  async login({ server, appId, roomId, userId, userName, token }) {
    this.setState('CONNECTING');
    const login = { version: 1, app_id: appId, room_id: roomId, user_id: userId, user_update: true, client: 'zego-room web page' };
    if (userName) login.user_name = userName;
    if (token) login.token = token;
    let url = server;
    for (let hop = 0; ; hop++) {
      try {
        await this.connect(url);
        const reply = await this.request('login', login);
        this.info = reply;
        this.clockOffsetMs = reply.server_time_ms - Date.now();
        this.startHeartbeat(reply.heartbeat_interval_ms || 10000);
        this.setState('CONNECTED');
        return reply;
      } catch (e) {
        this.close();
        if (e.code === 1900009 && e.redirect && hop < MAX_REDIRECTS) {
          this.handlers.onLog(`login redirected to ${e.redirect}`);
          url = e.redirect;
          continue;
        }
        this.setState('DISCONNECTED', 'LOGIN_FAILED', e.code || 1002030, e.message);
        throw e;
      }
    }
  }

  async logout() {
    try {
      if (this.state === 'CONNECTED') await this.request('logout');
    } catch (e) {
      this.handlers.onLog(`logout: ${e.code} ${e.message}`);
    }
    this.close();
    this.setState('DISCONNECTED', 'LOGOUT');
  }

  close() {
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RequestError(1002030, 'the signaling socket closed'));
    }
    this.pending.clear();
  }

  startHeartbeat(intervalMs) {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(async () => {
      try {
        const sent = Date.now();
        const reply = await this.request('heartbeat', { client_time_ms: sent });
        const now = Date.now();
        this.rttMs = now - sent;
        this.clockOffsetMs = reply.server_time_ms + this.rttMs / 2 - now;
      } catch (e) {
        this.handlers.onLog(`heartbeat: ${e.code} ${e.message}`);
      }
    }, Math.max(1000, intervalMs));
  }

  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
