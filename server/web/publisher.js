// Publishes the camera and microphone: getUserMedia, WebCodecs encoders
// (H.264 in Annex-B form, Opus), and a media socket with the subprotocol
// zego-publish.v1 that carries stream_info and then frames.

import { buildFrame, FLAG_KEY, FLAG_CONFIG, FLAG_DISCONT, mediaUrl } from './frame.js';

const VIDEO_TRACK = 0;
const AUDIO_TRACK = 1;
const KEYFRAME_INTERVAL_MS = 1500;     // the encoder makes one keyframe, then only when asked
const VIDEO_BUFFERED_LIMIT = 512 * 1024;      // socket backlog past which video waits for a keyframe
const AUDIO_BUFFERED_LIMIT = 2 * 1024 * 1024; // past which audio is dropped too
const MAX_ENCODE_QUEUE = 3;            // raw frames waiting in an encoder
const MAX_REPAIRS = 5;
const H264_CODECS = ['avc1.42E01F', 'avc1.42E01E', 'avc1.42001f', 'avc1.4D401F'];

// NAL unit types present in an Annex-B access unit.
function nalTypes(data) {
  const types = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      types.push(data[i + 3] & 0x1f);
      i += 3;
    }
  }
  return types;
}

// The Annex-B bytes of the SPS and PPS units of an access unit.
function parameterSets(data) {
  const starts = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      starts.push(i > 0 && data[i - 1] === 0 ? i - 1 : i);
      i += 3;
    }
  }
  const parts = [];
  starts.forEach((s, n) => {
    const end = n + 1 < starts.length ? starts[n + 1] : data.length;
    const nal = data.subarray(s, end);
    const hdr = nal[nal[2] === 1 ? 3 : 4] & 0x1f;
    if (hdr === 7 || hdr === 8) parts.push(nal);
  });
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export class Publisher {
  // ui: {preview (video element), setState(state, code, message), setQuality(text)}; log(text)
  constructor(room, streamId, ui, log, { width = 640, height = 480, frameRate = 30 } = {}) {
    this.room = room;
    this.streamId = streamId;
    this.ui = ui;
    this.log = log;
    this.want = { width, height, frameRate };
    this.state = 'NO_PUBLISH';
    this.stopped = false;
    this.media = null;
    this.ws = null;
    this.repairs = 0;
    this.attempt = 0; // the latest repair or publish again; older ones give way
    this.generation = 0;
    this.video = null; // {encoder, codec, width, height, seq, forceKey, waitKey, lastKey, parameterSets}
    this.audio = null; // {encoder, sampleRate, channels, seq}
    this.timeBase = null; // per track: first input timestamp and when it came
    this.captureTimes = new Map();
    this.stats = { videoSent: 0, audioSent: 0, bytes: 0, dropped: 0, backlogDrops: 0, recoveries: 0, keyframes: 0 };
    // Bytes added to the socket's bufferedAmount, for tests: Chromium counts
    // only what it has not yet handed to its network process, and on a fast
    // link (or loopback) that never builds up.
    this.simulatedBacklog = 0;
    this.window = { video: 0, bytes: 0, at: performance.now() };
    this.qualityTimer = setInterval(() => this.reportQuality(), 1000);
  }

  setState(state, code = 0, message = '') {
    this.state = state;
    this.ui.setState(state, code, message);
  }

  async start() {
    this.setState('PUBLISH_REQUESTING');
    try {
      if (typeof VideoEncoder === 'undefined') throw Object.assign(new Error('WebCodecs is not available (the page needs a secure context: https, localhost or 127.0.0.1)'), { code: 1901010 });
      if (typeof MediaStreamTrackProcessor === 'undefined') throw Object.assign(new Error('MediaStreamTrackProcessor is not supported by this browser'), { code: 1901010 });
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { width: this.want.width, height: this.want.height, frameRate: this.want.frameRate },
        audio: { channelCount: 1, echoCancellation: true },
      });
      this.ui.preview.srcObject = this.stream;
      await this.setupEncoders();
      const reply = await this.room.request('publish', { stream_id: this.streamId });
      if (this.stopped) return;
      await this.open(reply.media);
      this.pump(this.stream.getVideoTracks()[0], (f) => this.encodeVideo(f));
      const audioTrack = this.stream.getAudioTracks()[0];
      if (audioTrack) this.pump(audioTrack, (d) => this.encodeAudio(d));
    } catch (e) {
      this.log(`publish ${this.streamId}: ${e.code || ''} ${e.message}`);
      await this.stop(e.code || 0, e.message);
    }
  }

  async setupEncoders() {
    const vt = this.stream.getVideoTracks()[0];
    const vs = vt.getSettings();
    const width = vs.width & ~1, height = vs.height & ~1;
    let codec = null;
    for (const c of H264_CODECS) {
      const cfg = this.videoConfig(c, width, height);
      const s = await VideoEncoder.isConfigSupported(cfg).catch(() => ({ supported: false }));
      if (s.supported) {
        codec = c;
        break;
      }
    }
    if (!codec) throw Object.assign(new Error(`this browser cannot encode H.264 at ${width}x${height}`), { code: 1901010 });
    const encoder = new VideoEncoder({
      output: (chunk) => this.videoChunk(chunk),
      error: (e) => this.log(`publish ${this.streamId}: video encoder: ${e.message}`),
    });
    encoder.configure(this.videoConfig(codec, width, height));
    this.video = { encoder, codec, width, height, seq: 0, forceKey: true, waitKey: false, lastKey: 0, parameterSets: null };

    const at = this.stream.getAudioTracks()[0];
    if (at) {
      const as = at.getSettings();
      const sampleRate = as.sampleRate || 48000;
      const channels = Math.min(as.channelCount || 1, 2);
      const acfg = { codec: 'opus', sampleRate, numberOfChannels: channels, bitrate: 64000 };
      const s = await AudioEncoder.isConfigSupported(acfg).catch(() => ({ supported: false }));
      if (s.supported) {
        const aencoder = new AudioEncoder({
          output: (chunk) => this.audioChunk(chunk),
          error: (e) => this.log(`publish ${this.streamId}: audio encoder: ${e.message}`),
        });
        aencoder.configure(acfg);
        this.audio = { encoder: aencoder, sampleRate, channels, seq: 0 };
      } else {
        this.log(`publish ${this.streamId}: Opus at ${sampleRate} Hz is not supported by this browser; video only`);
      }
    }
  }

  videoConfig(codec, width, height) {
    return {
      codec, width, height,
      bitrate: 1_000_000,
      framerate: this.want.frameRate,
      latencyMode: 'realtime',
      avc: { format: 'annexb' },
    };
  }

  streamInfo() {
    const tracks = [{
      id: VIDEO_TRACK, kind: 'video', codec: 'h264', codec_string: this.video.codec,
      width: this.video.width, height: this.video.height, framerate_num: this.want.frameRate, framerate_den: 1,
    }];
    if (this.audio) tracks.push({ id: AUDIO_TRACK, kind: 'audio', codec: 'opus', codec_string: 'opus', sample_rate: this.audio.sampleRate, channels: this.audio.channels });
    return { type: 'stream_info', stream_id: this.streamId, generation: this.generation, tracks };
  }

  open(media) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(mediaUrl(media), 'zego-publish.v1');
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        // Every new publishing socket starts with stream_info and a keyframe.
        this.generation++;
        ws.send(JSON.stringify(this.streamInfo()));
        this.video.forceKey = true;
        this.repairs = 0;
        this.setState('PUBLISHING');
        resolve();
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return;
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        if (msg.type === 'keyframe_request') {
          this.video.forceKey = true;
          this.log(`publish ${this.streamId}: keyframe requested`);
        } else if (msg.type === 'error') {
          this.log(`publish ${this.streamId}: error ${msg.code} ${msg.message}`);
        }
      };
      ws.onclose = () => {
        if (this.ws !== ws) return;
        this.ws = null;
        if (!opened) reject(Object.assign(new Error('the media socket was refused'), { code: 1901007 }));
        else if (!this.stopped) this.repair();
      };
    });
  }

  // The media socket dropped while signaling is up: a fresh ticket.  While
  // the room reconnects, its reconnected() asks instead.
  async repair() {
    this.setState('PUBLISH_REQUESTING');
    if (this.room.reconnecting) return;
    if (++this.repairs > MAX_REPAIRS) {
      this.stop(1901009, 'the media socket keeps closing');
      return;
    }
    const attempt = ++this.attempt;
    await new Promise((r) => setTimeout(r, 500 * this.repairs));
    if (this.stopped || attempt !== this.attempt || this.room.reconnecting) return;
    try {
      const reply = await this.room.request('media_ticket', { stream_id: this.streamId, role: 'publish' });
      if (this.stopped || attempt !== this.attempt) return;
      await this.open(reply.media);
    } catch (e) {
      if (this.stopped || attempt !== this.attempt) return;
      this.log(`publish ${this.streamId}: repair: ${e.code || ''} ${e.message}`);
      this.repair();
    }
  }

  // The room is back after a lost connection.  A resumed session still
  // publishes the stream, and a media socket that stayed open goes on;
  // anything else publishes again (publishing one's own stream again is no
  // duplicate, and a server that forgot the session needs it).
  async reconnected(resumed) {
    if (this.stopped || !this.video) return;
    if (resumed && this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.repairs = 0;
    this.setState('PUBLISH_REQUESTING');
    const attempt = ++this.attempt;
    try {
      const reply = await this.room.request('publish', { stream_id: this.streamId });
      if (this.stopped || attempt !== this.attempt) return;
      await this.open(reply.media);
    } catch (e) {
      if (this.stopped || attempt !== this.attempt || this.room.reconnecting) return;
      this.log(`publish ${this.streamId}: publishing again: ${e.code || ''} ${e.message}`);
      this.repair();
    }
  }

  // Reads a track's raw frames one at a time; the reader is the only queue.
  async pump(track, handle) {
    const reader = new MediaStreamTrackProcessor({ track, maxBufferSize: 2 }).readable.getReader();
    this.readers = this.readers || [];
    this.readers.push(reader);
    for (;;) {
      let r;
      try {
        r = await reader.read();
      } catch {
        return;
      }
      if (r.done) return;
      if (this.stopped) {
        r.value.close();
        return;
      }
      handle(r.value);
    }
  }

  // Every track's timestamps start at the wall-clock moment its first frame
  // came, so audio and video share one timeline whatever clocks they came on.
  outputPts(track, ts) {
    if (!this.timeBase) this.timeBase = { start: performance.now(), tracks: {} };
    let b = this.timeBase.tracks[track];
    if (!b) b = this.timeBase.tracks[track] = { first: ts, offset: (performance.now() - this.timeBase.start) * 1000 };
    return ts - b.first + b.offset;
  }

  rememberCapture(ts) {
    this.captureTimes.set(ts, this.room.serverNowMs() * 1000);
    if (this.captureTimes.size > 256) this.captureTimes.delete(this.captureTimes.keys().next().value);
  }

  takeCapture(ts) {
    const v = this.captureTimes.get(ts) || 0;
    this.captureTimes.delete(ts);
    return v;
  }

  // Bytes waiting to go out on the media socket.
  backlog() {
    return (this.ws ? this.ws.bufferedAmount : 0) + this.simulatedBacklog;
  }

  // Video waits for a keyframe from the first frame dropped for a backlog on.
  dropForBacklog() {
    const v = this.video;
    if (!v.waitKey) this.log(`publish ${this.streamId}: ${this.backlog()} bytes waiting on the socket; video dropped until the next keyframe`);
    v.waitKey = true;
    this.stats.dropped++;
    this.stats.backlogDrops++;
  }

  encodeVideo(frame) {
    const v = this.video;
    try {
      // No point encoding what would be dropped: the first frame encoded
      // once the backlog has gone is a keyframe.
      if (this.ws && this.backlog() > VIDEO_BUFFERED_LIMIT) {
        this.dropForBacklog();
        return;
      }
      if (!this.ws || v.encoder.state !== 'configured' || v.encoder.encodeQueueSize >= MAX_ENCODE_QUEUE) {
        this.stats.dropped++;
        if (this.ws) v.forceKey = v.forceKey || v.waitKey;
        return;
      }
      const now = performance.now();
      const keyFrame = v.forceKey || v.waitKey || now - v.lastKey >= KEYFRAME_INTERVAL_MS;
      if (keyFrame) {
        v.forceKey = false;
        v.lastKey = now;
      }
      this.rememberCapture(frame.timestamp);
      v.encoder.encode(frame, { keyFrame });
    } finally {
      frame.close();
    }
  }

  encodeAudio(data) {
    try {
      const a = this.audio;
      if (!a || !this.ws || a.encoder.state !== 'configured' || a.encoder.encodeQueueSize > 10) return;
      if (data.sampleRate !== a.sampleRate) return;
      a.encoder.encode(data);
    } finally {
      data.close();
    }
  }

  send(track, flags, seq, chunk, payload) {
    const pts = this.outputPts(track, chunk.timestamp);
    const capture = track === VIDEO_TRACK ? this.takeCapture(chunk.timestamp) : this.room.serverNowMs() * 1000;
    const msg = buildFrame({ track, flags, sequence: seq, pts, dts: pts, captureUs: capture }, payload);
    this.ws.send(msg);
    this.stats.bytes += msg.byteLength;
    this.window.bytes += msg.byteLength;
  }

  videoChunk(chunk) {
    const v = this.video;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const key = chunk.type === 'key';
    // A backlog on the socket means the network is slower than the encoder:
    // drop video until the next keyframe rather than queue it.
    if (this.backlog() > VIDEO_BUFFERED_LIMIT || (v.waitKey && !key)) {
      this.dropForBacklog();
      return;
    }
    let data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    let flags = 0;
    if (key) {
      flags |= FLAG_KEY | FLAG_CONFIG;
      const types = nalTypes(data);
      if (types.includes(7)) v.parameterSets = parameterSets(data);
      else if (v.parameterSets) {
        // The protocol wants SPS and PPS in front of every keyframe.
        const joined = new Uint8Array(v.parameterSets.length + data.length);
        joined.set(v.parameterSets);
        joined.set(data, v.parameterSets.length);
        data = joined;
      }
      if (v.waitKey) {
        flags |= FLAG_DISCONT;
        this.stats.recoveries++;
      }
      v.waitKey = false;
      this.stats.keyframes++;
    }
    this.send(VIDEO_TRACK, flags, v.seq, chunk, data);
    v.seq = (v.seq + 1) >>> 0;
    this.stats.videoSent++;
    this.window.video++;
  }

  audioChunk(chunk) {
    const a = this.audio;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.backlog() > AUDIO_BUFFERED_LIMIT) {
      this.stats.dropped++;
      return;
    }
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    this.send(AUDIO_TRACK, FLAG_KEY, a.seq, chunk, data);
    a.seq = (a.seq + 1) >>> 0;
    this.stats.audioSent++;
  }

  reportQuality() {
    const now = performance.now();
    const secs = (now - this.window.at) / 1000;
    const fps = this.window.video / secs;
    const kbps = (this.window.bytes * 8) / 1000 / secs;
    this.window = { video: 0, bytes: 0, at: now };
    if (this.state !== 'PUBLISHING') return;
    const buffered = this.backlog();
    this.ui.setQuality(`${fps.toFixed(1)} fps · ${Math.round(kbps)} kbps · rtt ${Math.round(this.room.rttMs)} ms · dropped ${this.stats.dropped} · sent ${this.stats.videoSent} video, ${this.stats.audioSent} audio · buffered ${buffered} B`);
  }

  async stop(code = 0, message = '') {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.qualityTimer);
    for (const r of this.readers || []) r.cancel().catch(() => {});
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    if (this.ui.preview) this.ui.preview.srcObject = null;
    for (const e of [this.video && this.video.encoder, this.audio && this.audio.encoder]) {
      if (e && e.state !== 'closed') e.close();
    }
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    if (this.state !== 'NO_PUBLISH' && this.room.state === 'CONNECTED') {
      try {
        await this.room.request('unpublish', { stream_id: this.streamId });
      } catch (e) {
        if (e.code !== 1004002) this.log(`unpublish ${this.streamId}: ${e.code} ${e.message}`);
      }
    }
    this.setState('NO_PUBLISH', code, message);
  }
}
