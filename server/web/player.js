// Plays one stream: a play request on signaling, a media socket with the
// subprotocol zego-play.v1, WebCodecs decoders configured from stream_info,
// video onto a canvas and audio through Web Audio.

import { parseFrame, FLAG_KEY, FLAG_DISCONT, base64ToBytes, mediaUrl } from './frame.js';

// Past this, video waits for the next keyframe.  A player joining late gets
// the server's whole GOP cache at once (up to 600 frames by default), and
// every frame of it must be decoded to reach the newest one.
const MAX_VIDEO_DECODE_QUEUE = 600;
const MAX_AUDIO_DECODE_QUEUE = 100;
const MAX_AUDIO_AHEAD_S = 0.5;      // audio scheduled further ahead than this is dropped
const AUDIO_START_DELAY_S = 0.05;
const MAX_REPAIRS = 5;

let audioContext = null;
// One AudioContext for every player; made (or resumed) on a user gesture
// when there is one, as autoplay policies want.
export function sharedAudioContext() {
  if (!audioContext) audioContext = new AudioContext({ latencyHint: 'interactive' });
  if (audioContext.state === 'suspended') audioContext.resume().catch(() => {});
  return audioContext;
}

function unsupported(track) {
  const what = track.codec === 'h265' ? 'H.265' : track.codec_string;
  return `${track.kind} ${what} is not supported by this browser`;
}

export class Player {
  // ui: {canvas, setState(state, code, message), setQuality(text), setNote(text)}; log(text)
  constructor(room, streamId, ui, log) {
    this.room = room;
    this.streamId = streamId;
    this.ui = ui;
    this.log = log;
    this.state = 'NO_PLAY';
    this.ws = null;
    this.stopped = false;
    this.repairs = 0;
    this.attempt = 0;        // the latest play or repair; older ones give way
    this.generation = 0;
    this.tracks = new Map(); // track id -> {info, decoder, needKey, lastSeq}
    this.latestFrame = null;  // the newest decoded video frame, not yet painted
    this.paintScheduled = false;
    this.audioNextTime = 0;
    this.stats = { videoDecoded: 0, videoPainted: 0, videoSkipped: 0, audioDecoded: 0, bytes: 0, lost: 0, dropped: 0, delayMs: null };
    this.window = { painted: 0, audio: 0, bytes: 0, at: performance.now() };
    this.qualityTimer = setInterval(() => this.reportQuality(), 1000);
  }

  setState(state, code = 0, message = '') {
    this.state = state;
    this.ui.setState(state, code, message);
  }

  async start() {
    this.setState('PLAY_REQUESTING');
    sharedAudioContext();
    const attempt = ++this.attempt;
    try {
      const reply = await this.room.request('play', { stream_id: this.streamId });
      if (this.stopped || attempt !== this.attempt) return;
      if (!reply.published) this.ui.setNote('waiting for the stream to be published');
      this.open(reply.media);
    } catch (e) {
      if (this.stopped || attempt !== this.attempt) return;
      if (this.room.reconnecting) return; // reconnected() asks again
      this.setState('NO_PLAY', e.code, e.message);
      this.log(`play ${this.streamId}: ${e.code} ${e.message}`);
    }
  }

  // The room is back after a lost connection.  A resumed session still
  // plays the stream, and a media socket that stayed open goes on; anything
  // else asks to play again (the server may have forgotten the play).
  reconnected(resumed) {
    if (this.stopped) return;
    if (resumed && this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.repairs = 0;
    this.start();
  }

  open(media) {
    if (this.stopped) return;
    const ws = new WebSocket(mediaUrl(media), 'zego-play.v1');
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.receiveText(ev.data);
      else this.receiveFrame(ev.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      this.repair();
    };
  }

  // The media socket dropped while signaling is up: a fresh ticket, no room
  // events.  While the room reconnects, its reconnected() asks instead.
  async repair() {
    this.setState('PLAY_REQUESTING');
    if (this.room.reconnecting) return;
    if (++this.repairs > MAX_REPAIRS) {
      this.setState('NO_PLAY', 1901009, 'the media socket keeps closing');
      return;
    }
    const attempt = ++this.attempt;
    await new Promise((r) => setTimeout(r, 500 * this.repairs));
    if (this.stopped || attempt !== this.attempt || this.room.reconnecting) return;
    try {
      const reply = await this.room.request('media_ticket', { stream_id: this.streamId, role: 'play' });
      if (this.stopped || attempt !== this.attempt) return;
      this.open(reply.media);
    } catch (e) {
      if (this.stopped || attempt !== this.attempt || this.room.reconnecting) return;
      this.setState('NO_PLAY', e.code, e.message);
    }
  }

  receiveText(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this.log(`play ${this.streamId}: unreadable text message`);
      return;
    }
    if (msg.type === 'stream_info') this.configure(msg);
    else if (msg.type === 'error') this.log(`play ${this.streamId}: error ${msg.code} ${msg.message}`);
    else if (msg.type === 'unpublish') this.log(`play ${this.streamId}: the stream was unpublished (its last frame came before this)`);
    else this.log(`play ${this.streamId}: ${msg.type}`);
  }

  // A new generation: new decoders, new timing.
  configure(info) {
    this.closeDecoders();
    this.generation = info.generation;
    this.audioNextTime = 0;
    const notes = [];
    const described = info.tracks.map((t) => (t.kind === 'video' ? `${t.codec_string} ${t.width || '?'}x${t.height || '?'}` : `${t.codec_string} ${t.sample_rate} Hz ${t.channels} ch`));
    this.log(`play ${this.streamId}: stream_info generation ${info.generation}: ${described.join(', ')}`);
    for (const t of info.tracks) {
      const entry = { info: t, decoder: null, needKey: true, lastSeq: null, ok: false };
      this.tracks.set(t.id, entry);
      if (t.kind === 'video') this.setupVideo(entry, notes);
      else this.setupAudio(entry, notes);
    }
    this.ui.setNote(notes.join('; '));
    this.repairs = 0;
    this.setState('PLAYING');
  }

  setupVideo(entry, notes) {
    const t = entry.info;
    if (typeof VideoDecoder === 'undefined') {
      notes.push('WebCodecs is not available (the page needs a secure context: https, localhost or 127.0.0.1)');
      return;
    }
    // H.264/H.265 arrive in Annex-B form: no description, or the decoder would expect avcC framing.
    const config = { codec: t.codec_string, optimizeForLatency: true };
    if (t.config && !['h264', 'h265'].includes(t.codec)) config.description = base64ToBytes(t.config);
    const decoder = new VideoDecoder({
      output: (frame) => this.videoOutput(frame),
      error: (e) => {
        this.log(`play ${this.streamId}: video decoder: ${e.message}`);
        entry.needKey = true;
        entry.decoder = null;
        if (entry.ok) this.setupVideo(entry, []);
      },
    });
    entry.decoder = decoder;
    this.configureWhenSupported(entry, decoder, VideoDecoder, config);
  }

  setupAudio(entry, notes) {
    const t = entry.info;
    if (typeof AudioDecoder === 'undefined') {
      notes.push('WebCodecs audio is not available here');
      return;
    }
    const config = { codec: t.codec_string, sampleRate: t.sample_rate, numberOfChannels: t.channels };
    if (t.config) config.description = base64ToBytes(t.config); // AAC's AudioSpecificConfig, an OpusHead
    if (t.codec === 'aac' && !t.config) notes.push('AAC without its AudioSpecificConfig cannot be decoded');
    const decoder = new AudioDecoder({
      output: (data) => this.audioOutput(data),
      error: (e) => {
        this.log(`play ${this.streamId}: audio decoder: ${e.message}`);
        entry.decoder = null;
      },
    });
    entry.decoder = decoder;
    entry.needKey = false; // every Opus and AAC packet decodes on its own
    this.configureWhenSupported(entry, decoder, AudioDecoder, config);
  }

  // Configures a decoder once the browser says it can take the config;
  // otherwise the player says so.  Kind: VideoDecoder or AudioDecoder.
  configureWhenSupported(entry, decoder, Kind, config) {
    const t = entry.info;
    Kind.isConfigSupported(config).then((s) => {
      if (entry.decoder !== decoder) return;
      if (!s.supported) {
        entry.decoder = null;
        decoder.close();
        this.ui.setNote(unsupported(t));
        this.log(`play ${this.streamId}: ${unsupported(t)}`);
        return;
      }
      decoder.configure(config);
      entry.ok = true;
    }, (e) => {
      entry.decoder = null;
      this.ui.setNote(`${unsupported(t)} (${e.message})`);
    });
  }

  receiveFrame(buffer) {
    let f;
    try {
      f = parseFrame(buffer);
    } catch (e) {
      this.log(`play ${this.streamId}: bad frame: ${e.message}`);
      return;
    }
    this.stats.bytes += buffer.byteLength;
    this.window.bytes += buffer.byteLength;
    if (f.captureUs > 0) this.stats.delayMs = this.room.serverNowMs() - f.captureUs / 1000;
    const entry = this.tracks.get(f.track);
    if (!entry) return;
    const key = (f.flags & FLAG_KEY) !== 0;
    if (entry.lastSeq !== null && f.sequence !== ((entry.lastSeq + 1) >>> 0)) {
      this.stats.lost += (f.sequence - entry.lastSeq - 1) >>> 0;
      if (entry.info.kind === 'video') entry.needKey = true; // a missing P-frame corrupts what follows
    }
    entry.lastSeq = f.sequence;
    if (f.flags & FLAG_DISCONT && entry.info.kind === 'video') entry.needKey = true;
    const d = entry.decoder;
    if (!d || d.state !== 'configured') return;
    if (entry.info.kind === 'video') {
      if (d.decodeQueueSize > MAX_VIDEO_DECODE_QUEUE) entry.needKey = true;
      if (entry.needKey && !key) {
        this.stats.dropped++;
        return;
      }
      entry.needKey = false;
      try {
        d.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: f.pts, data: f.payload }));
      } catch (e) {
        entry.needKey = true;
        this.log(`play ${this.streamId}: video decode: ${e.message}`);
      }
    } else {
      if (d.decodeQueueSize > MAX_AUDIO_DECODE_QUEUE) {
        this.stats.dropped++;
        return;
      }
      try {
        d.decode(new EncodedAudioChunk({ type: 'key', timestamp: f.pts, data: f.payload }));
      } catch (e) {
        this.log(`play ${this.streamId}: audio decode: ${e.message}`);
      }
    }
  }

  // Frames of a GOP-cache burst come out back to back: keep only the newest
  // and paint it on the next animation frame, so the picture jumps to the
  // live edge instead of replaying the burst.
  videoOutput(frame) {
    this.stats.videoDecoded++;
    if (this.latestFrame) {
      this.latestFrame.close();
      this.stats.videoSkipped++;
    }
    this.latestFrame = frame;
    if (!this.paintScheduled) {
      this.paintScheduled = true;
      requestAnimationFrame(() => this.paint());
    }
  }

  paint() {
    this.paintScheduled = false;
    const frame = this.latestFrame;
    this.latestFrame = null;
    if (!frame) return;
    const c = this.ui.canvas;
    if (c.width !== frame.displayWidth || c.height !== frame.displayHeight) {
      c.width = frame.displayWidth;
      c.height = frame.displayHeight;
    }
    c.getContext('2d').drawImage(frame, 0, 0, c.width, c.height);
    frame.close();
    this.stats.videoPainted++;
    this.window.painted++;
  }

  audioOutput(data) {
    this.stats.audioDecoded++;
    this.window.audio++;
    try {
      const ctx = audioContext;
      if (!ctx || ctx.state !== 'running') return;
      const now = ctx.currentTime;
      if (this.audioNextTime < now) this.audioNextTime = now + AUDIO_START_DELAY_S;
      if (this.audioNextTime - now > MAX_AUDIO_AHEAD_S) {
        this.stats.dropped++;
        return;
      }
      const buffer = ctx.createBuffer(data.numberOfChannels, data.numberOfFrames, data.sampleRate);
      for (let ch = 0; ch < data.numberOfChannels; ch++) {
        const plane = new Float32Array(data.numberOfFrames);
        data.copyTo(plane, { planeIndex: ch, format: 'f32-planar' });
        buffer.copyToChannel(plane, ch);
      }
      const src = ctx.createBufferSource();
      src.buffer = buffer;
      src.connect(ctx.destination);
      src.start(this.audioNextTime);
      this.audioNextTime += buffer.duration;
    } finally {
      data.close();
    }
  }

  reportQuality() {
    const now = performance.now();
    const secs = (now - this.window.at) / 1000;
    const fps = this.window.painted / secs;
    const kbps = (this.window.bytes * 8) / 1000 / secs;
    this.window = { painted: 0, audio: 0, bytes: 0, at: now };
    if (this.state !== 'PLAYING') return;
    const delay = this.stats.delayMs === null ? '?' : Math.round(this.stats.delayMs);
    this.ui.setQuality(`${fps.toFixed(1)} fps · ${Math.round(kbps)} kbps · delay ${delay} ms · lost ${this.stats.lost} · dropped ${this.stats.dropped} · skipped ${this.stats.videoSkipped} · decoded ${this.stats.videoDecoded} video, ${this.stats.audioDecoded} audio`);
  }

  closeDecoders() {
    for (const entry of this.tracks.values()) {
      if (entry.decoder && entry.decoder.state !== 'closed') entry.decoder.close();
      entry.decoder = null;
    }
    this.tracks.clear();
    if (this.latestFrame) this.latestFrame.close();
    this.latestFrame = null;
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.qualityTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.closeDecoders();
    if (this.room.state === 'CONNECTED') {
      try {
        await this.room.request('stop_play', { stream_id: this.streamId });
      } catch (e) {
        this.log(`stop_play ${this.streamId}: ${e.code} ${e.message}`);
      }
    }
    this.setState('NO_PLAY');
  }
}
