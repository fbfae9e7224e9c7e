// The web debug page in a real Chromium against the real zego-room-server,
// with real GStreamer pipelines on the other side.  Speaks TAP.
//
//   node test-browser.mjs SERVER_BIN TOKEN_BIN OUT_DIR
//
// GST_PLUGIN_PATH (and the registry variables) point at the plugin being
// tested; ZEGO_GST_PRELOAD, when set, is preloaded into gst-launch-1.0 (the
// sanitizer runtime of a sanitized plugin).  CHROMIUM overrides the browser
// (default /usr/bin/chromium).  OUT_DIR receives page-playing.png.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';

const [serverBin, tokenBin, outDir] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const APP_SECRET = '0123456789abcdef0123456789abcdef';
const COLOUR = { r: 0xe0, g: 0x30, b: 0x80 }; // videotestsrc foreground-color=0xffe03080
const COLOUR_TOLERANCE = 40;

function skip(reason) {
  console.log(`1..0 # SKIP ${reason}`);
  process.exit(0);
}

if (!serverBin || !tokenBin || !outDir) {
  console.error('usage: test-browser.mjs SERVER_BIN TOKEN_BIN OUT_DIR');
  process.exit(2);
}
if (!existsSync(chromiumPath)) skip(`no Chromium at ${chromiumPath} (Debian package chromium)`);
let chromium;
try {
  const require = createRequire(import.meta.url);
  ({ chromium } = require('playwright-core'));
} catch {
  skip('playwright-core is not installed: run npm ci in tests/browser (make deps does)');
}

// ---- TAP ----
let n = 0, failed = 0;
function ok(cond, name, detail = '') {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    for (const line of String(detail).split('\n').slice(-30)) if (line) console.log(`#   ${line}`);
  }
  return cond;
}
const note = (text) => console.log(`# ${text}`);

// ---- processes ----
const children = new Set();
function run(cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.out = '';
  const keep = (d) => {
    child.out += d.toString();
    if (child.out.length > 4_000_000) child.out = child.out.slice(-2_000_000); // bounded
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  children.add(child);
  child.done.then(() => children.delete(child));
  return child;
}

async function stop(child, signal = 'SIGTERM', graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.done;
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const r = await child.done;
  clearTimeout(t);
  return r;
}

async function startServer(args = [], listen = '127.0.0.1:0') {
  const child = run(serverBin, ['--listen', listen, '--log-level', 'warn', ...args]);
  for (let i = 0; i < 100; i++) {
    const m = child.out.match(/listening on (wss?:\/\/[^\s]+)/);
    if (m) {
      const ws = m[1];
      return { child, ws, http: ws.replace(/^ws/, 'http').replace(/\/ws$/, '') };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`the server did not start: ${child.out}`);
}

// A port nobody listens on now, for a server that must come back on it.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function gst(args) {
  const env = {};
  if (process.env.ZEGO_GST_PRELOAD) {
    env.LD_PRELOAD = process.env.ZEGO_GST_PRELOAD;
    env.ASAN_OPTIONS = 'detect_leaks=0';
  }
  return run('gst-launch-1.0', args, env);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, timeoutMs, stepMs = 200) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await sleep(stepMs);
  }
}

// ---- the page ----
async function openPage(browser, base, fields) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  const hash = new URLSearchParams(fields).toString();
  await page.goto(`${base}/#${hash}`);
  return page;
}

async function login(page) {
  await page.click('#login');
  await page.waitForSelector('#room-state:not([data-state="CONNECTING"])', { timeout: 10000 });
  return page.getAttribute('#room-state', 'data-state');
}

const logText = (page) => page.locator('#log').innerText();
const listed = (page, list, attr, id) => page.locator(`#${list} li[data-${attr}="${id}"]`).count().then((c) => c > 0);

async function main() {
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
  });
  const server = await startServer();
  note(`server ${server.ws}`);
  // BROWSER_TESTS=name,name runs only those tests (the function names below).
  const only = (process.env.BROWSER_TESTS || '').split(',').filter(Boolean);
  const tests = [servesThePage, playsAGStreamerStream, playsVpxAndAv1, paintsOnlyTheNewestFrameOfABurst, followsACodecChange, publishesToGStreamer, dropsVideoOnABacklog, twoPagesSeeEachOther,
    wrongTokenShowsTheError, unsupportedCodecsAreNamed, worksOverHttps, reconnectsAndResumes];
  try {
    for (const t of tests) {
      if (only.length && !only.includes(t.name)) continue;
      note(`--- ${t.name}`);
      await t(browser, server);
    }
  } finally {
    await browser.close();
    const r = await stop(server.child);
    ok(r.code === 0, 'the server exits cleanly on SIGTERM', server.child.out);
  }
}

async function servesThePage(browser, server) {
  const index = await fetch(`${server.http}/`);
  const html = await index.text();
  ok(index.status === 200 && index.headers.get('content-type').startsWith('text/html') && html.includes('<script type="module" src="app.js">'),
    'GET / serves the page', `${index.status} ${index.headers.get('content-type')}`);
  const js = await fetch(`${server.http}/player.js`);
  ok(js.status === 200 && js.headers.get('content-type').startsWith('text/javascript') && (await js.text()).includes('VideoDecoder'),
    'the page\'s modules are served as JavaScript', `${js.status} ${js.headers.get('content-type')}`);
  const missing = await fetch(`${server.http}/../server.h`);
  ok(missing.status === 404, 'a path that is not one of the page\'s files is 404', String(missing.status));
}

// A solid colour (videotestsrc's big-endian ARGB) and a tone through zegosink,
// its video encoded to `codec` (zegosink's video-codec).
function publishPattern(server, argb, width, height, { room = 'gst-room', stream = 'pattern', codec = 'h264', fps = 30 } = {}) {
  return gst(['-e',
    'zegosink', 'name=z', `server=${server.ws}`, 'app-id=1', `room-id=${room}`, `stream-id=${stream}`,
    `user-id=gst-${stream}`, 'user-name=gst-launch', 'extra-info=solid-colour+tone', `video-codec=${codec}`,
    'videotestsrc', 'is-live=true', 'pattern=solid-color', `foreground-color=${argb}`,
    '!', `video/x-raw,width=${width},height=${height},framerate=${fps}/1`, '!', 'z.video',
    'audiotestsrc', 'is-live=true', 'wave=sine', 'freq=440', '!', 'z.audio']);
}

// The colour at the middle of a player's canvas, and its size.
function canvasPixel(page, stream) {
  return page.evaluate((id) => {
    const c = document.querySelector(`#players .player[data-stream-id="${id}"] canvas`);
    if (!c) return null;
    const d = c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    return { r: d[0], g: d[1], b: d[2], w: c.width, h: c.height };
  }, stream);
}

const near = (px, want, tolerance = COLOUR_TOLERANCE) => !!px && ['r', 'g', 'b'].every((k) => Math.abs(px[k] - want[k]) <= tolerance);
const playerStats = (page, stream) => page.evaluate((id) => window.zegoPage.players.get(id)?.player.stats, stream);

// (1) and (5)
async function playsAGStreamerStream(browser, server) {
  let pub = publishPattern(server, '0xffe03080', 320, 240);
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'gst-room', user_id: 'viewer', user_name: '观众' });
  try {
    ok(await login(page) === 'CONNECTED', 'the page logs into a room', await logText(page));
    const seen = await waitFor(() => listed(page, 'streams', 'stream-id', 'pattern'), 15000);
    ok(seen, 'the page lists the stream zegosink publishes', (await logText(page)) + '\n' + pub.out);
    if (!seen) return;
    await page.click('#streams li[data-stream-id="pattern"] button.play');
    const stats = () => page.evaluate(() => window.zegoPage.players.get('pattern')?.player.stats);
    const enough = await waitFor(async () => {
      const s = await stats();
      return s && s.videoDecoded >= 60 && s.audioDecoded >= 10 ? s : null;
    }, 20000);
    const s = await stats();
    note(`player stats ${JSON.stringify(s)}`);
    ok(enough && s.videoDecoded >= 60, 'the page decodes at least 60 video frames', (await logText(page)) + '\n' + JSON.stringify(s));
    ok(enough && s.audioDecoded >= 10, 'the page decodes the Opus audio', JSON.stringify(s));
    ok(await page.getAttribute('#players .player[data-stream-id="pattern"] .state', 'data-state') === 'PLAYING',
      'the player state is PLAYING');
    const quality = await waitFor(() => page.locator('#players .player[data-stream-id="pattern"] .quality').innerText(), 3000);
    ok(/fps .* kbps .* delay/.test(quality), 'the player shows a quality line', quality);
    const px = await page.evaluate(() => {
      const c = document.querySelector('#players .player[data-stream-id="pattern"] canvas');
      const d = c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
      return { r: d[0], g: d[1], b: d[2], w: c.width, h: c.height };
    });
    const close = ['r', 'g', 'b'].every((k) => Math.abs(px[k] - COLOUR[k]) <= COLOUR_TOLERANCE);
    ok(close && px.w === 320 && px.h === 240, 'the canvas shows the published colour at the published size',
      `pixel ${JSON.stringify(px)}, wanted ${JSON.stringify(COLOUR)} ± ${COLOUR_TOLERANCE}`);
    const shot = path.join(outDir, 'page-playing.png');
    await page.screenshot({ path: shot, fullPage: true });
    ok(existsSync(shot) && statSync(shot).size > 10000, `a screenshot of the page playing is written (${shot})`);

    // The publisher restarts with another size and colour: a new generation,
    // which the player must take without being told anything else.
    const generation = await page.evaluate(() => window.zegoPage.players.get('pattern').player.generation);
    await stop(pub, 'SIGINT');
    pub = publishPattern(server, '0xff20c040', 160, 120);
    const second = await waitFor(() => page.evaluate(({ g, want }) => {
      const p = window.zegoPage.players.get('pattern')?.player;
      const c = document.querySelector('#players .player[data-stream-id="pattern"] canvas');
      if (!p || p.generation <= g || c.width !== 160) return null;
      const d = c.getContext('2d').getImageData(80, 60, 1, 1).data;
      const close = Math.abs(d[0] - want.r) <= 40 && Math.abs(d[1] - want.g) <= 40 && Math.abs(d[2] - want.b) <= 40;
      return close ? { generation: p.generation, pixel: [d[0], d[1], d[2]] } : null;
    }, { g: generation, want: { r: 0x20, g: 0xc0, b: 0x40 } }), 15000);
    ok(second, 'a restarted publisher\'s new stream_info generation reconfigures the player (new size and colour)',
      (await logText(page)) + '\n' + pub.out.slice(-2000));
    ok(page.errors.length === 0, 'no uncaught errors on the page', page.errors.join('\n'));
  } finally {
    await page.context().close();
    await stop(pub, 'SIGINT');
  }
}

// VP8, VP9 and AV1 from zegosink: each track's RFC 6381 codec string from
// stream_info configures a VideoDecoder, and the canvas shows the colour.
async function playsVpxAndAv1(browser, server) {
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'vpx-room', user_id: 'vpx-viewer' });
  try {
    ok(await login(page) === 'CONNECTED', 'a page logs in to play VP8, VP9 and AV1', await logText(page));
    const cases = [
      { codec: 'vp8', name: 'VP8', argb: '0xff2080e0', want: { r: 0x20, g: 0x80, b: 0xe0 }, w: 320, h: 240, fps: 30, frames: 60 },
      { codec: 'vp9', name: 'VP9', argb: '0xffe0c020', want: { r: 0xe0, g: 0xc0, b: 0x20 }, w: 320, h: 240, fps: 30, frames: 60 },
      // av1enc is slow: a small picture at a low rate.
      { codec: 'av1', name: 'AV1', argb: '0xff40e0c0', want: { r: 0x40, g: 0xe0, b: 0xc0 }, w: 160, h: 120, fps: 15, frames: 30 },
    ];
    for (const c of cases) {
      const stream = `${c.codec}-pattern`;
      const pub = publishPattern(server, c.argb, c.w, c.h, { room: 'vpx-room', stream, codec: c.codec, fps: c.fps });
      try {
        const seen = await waitFor(() => listed(page, 'streams', 'stream-id', stream), 15000);
        if (!ok(seen, `the page lists the ${c.name} stream`, (await logText(page)) + '\n' + pub.out.slice(-2000))) continue;
        await page.click(`#streams li[data-stream-id="${stream}"] button.play`);
        const good = await waitFor(async () => {
          const s = await playerStats(page, stream);
          const px = await canvasPixel(page, stream);
          return s && s.videoDecoded >= c.frames && s.videoPainted >= 10 && near(px, c.want) && px.w === c.w && px.h === c.h ? { s, px } : null;
        }, 30000, 250);
        const s = await playerStats(page, stream);
        const px = await canvasPixel(page, stream);
        const codecString = await page.evaluate((id) => window.zegoPage.players.get(id)?.player.tracks.get(0)?.info.codec_string, stream);
        note(`${c.name} (${codecString}) stats ${JSON.stringify(s)} pixel ${JSON.stringify(px)}`);
        ok(good, `the page decodes ${c.frames} ${c.name} frames (${codecString}) and paints the published colour at ${c.w}x${c.h}`,
          `stats ${JSON.stringify(s)} pixel ${JSON.stringify(px)} wanted ${JSON.stringify(c.want)}\n` + (await page.locator(`#players .player[data-stream-id="${stream}"] .note`).innerText()) + '\n' + (await logText(page)) + '\n' + pub.out.slice(-2000));
        await page.click(`#players .player[data-stream-id="${stream}"] .stop`);
      } finally {
        await stop(pub, 'SIGINT');
      }
    }
    ok(page.errors.length === 0, 'no uncaught errors on the VP8/VP9/AV1 page', page.errors.join('\n'));
  } finally {
    await page.context().close();
  }
}

// A player joining late gets the GOP cache as one burst: it decodes every
// frame of it (they depend on each other) but paints only the newest.  The
// publisher makes one keyframe only, so the cache grows with every frame; a
// server of its own counts a player as behind only when its oldest queued
// frame is older than 20 s (3 s by default, shorter than this burst).
async function paintsOnlyTheNewestFrameOfABurst(browser) {
  const BURST = 150;
  const server = await startServer(['--player-queue-ms', '20000']);
  const pub = gst(['-v', '-e',
    'zegosink', 'name=z', `server=${server.ws}`, 'app-id=1', 'room-id=burst-room', 'stream-id=long-gop', 'user-id=gst-long-gop',
    'videotestsrc', 'is-live=true', 'pattern=solid-color', 'foreground-color=0xffe03080',
    '!', 'video/x-raw,format=I420,width=320,height=240,framerate=30/1',
    '!', 'x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', 'key-int-max=100000', 'bframes=0',
    '!', 'h264parse', '!', 'identity', 'name=sent', 'silent=false', '!', 'z.video']);
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'burst-room', user_id: 'late-viewer' });
  try {
    ok(await login(page) === 'CONNECTED', 'a late viewer logs in', await logText(page));
    const sent = () => (pub.out.match(/sent: last-message = chain/g) || []).length;
    const cached = await waitFor(async () => (await listed(page, 'streams', 'stream-id', 'long-gop')) && sent() >= BURST, 30000, 250);
    if (!ok(cached, `the publisher sends ${BURST} frames after its one keyframe`, pub.out.slice(-2000))) return;
    await page.click('#streams li[data-stream-id="long-gop"] button.play');
    const burst = await waitFor(async () => {
      const s = await playerStats(page, 'long-gop');
      return s && s.videoDecoded >= BURST ? s : null;
    }, 15000, 100);
    note(`after the burst: ${JSON.stringify(burst)}`);
    if (!ok(burst && burst.dropped === 0 && burst.lost === 0, `the page decodes the ${BURST}-frame burst without dropping any`,
      JSON.stringify(await playerStats(page, 'long-gop')) + '\n' + (await logText(page)))) return;
    ok(burst && burst.videoSkipped >= BURST * 0.6 && burst.videoPainted <= burst.videoDecoded - BURST * 0.6,
      'it paints far fewer frames than it decodes during the burst (the rest are skipped, never painted)', JSON.stringify(burst));
    const live = await waitFor(async () => {
      const s = await playerStats(page, 'long-gop');
      return s && s.videoPainted >= burst.videoPainted + 30 ? s : null;
    }, 10000, 250);
    const px = await canvasPixel(page, 'long-gop');
    note(`live: ${JSON.stringify(live)} pixel ${JSON.stringify(px)}`);
    ok(live && live.videoSkipped - burst.videoSkipped <= (live.videoDecoded - burst.videoDecoded) / 2 && near(px, COLOUR),
      'after the burst live frames are painted as they come, in the published colour',
      `${JSON.stringify(burst)} then ${JSON.stringify(live)} pixel ${JSON.stringify(px)}`);
    ok(/skipped \d+/.test(await page.locator('#players .player[data-stream-id="long-gop"] .quality').innerText()),
      'the quality line counts the skipped frames');
  } finally {
    await page.context().close();
    await stop(pub, 'SIGINT');
  }
}

// The publisher of a stream stops and another publishes the same stream ID
// in another codec: the player takes the new stream_info generation, makes
// new decoders for it and plays on, with no new click.
async function followsACodecChange(browser, server) {
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'switch-room', user_id: 'switch-viewer' });
  let pub = publishPattern(server, '0xffe03080', 320, 240, { room: 'switch-room', stream: 'switch', codec: 'h264' });
  const state = () => page.evaluate(() => {
    const p = window.zegoPage.players.get('switch')?.player;
    const t = p && p.tracks.get(0);
    return p ? { generation: p.generation, codec: t?.info.codec, decoder: t?.decoder?.state, stats: { ...p.stats } } : null;
  });
  try {
    ok(await login(page) === 'CONNECTED' && await waitFor(() => listed(page, 'streams', 'stream-id', 'switch'), 15000),
      'a page sees an H.264 stream', (await logText(page)) + '\n' + pub.out.slice(-2000));
    await page.click('#streams li[data-stream-id="switch"] button.play');
    const first = await waitFor(async () => {
      const st = await state();
      return st && st.codec === 'h264' && st.stats.videoDecoded >= 30 && near(await canvasPixel(page, 'switch'), COLOUR) ? st : null;
    }, 20000);
    ok(first, 'it plays the H.264 stream', JSON.stringify(await state()) + '\n' + (await logText(page)));
    if (!first) return;
    await stop(pub, 'SIGINT');
    const green = { r: 0x20, g: 0xc0, b: 0x40 };
    pub = publishPattern(server, '0xff20c040', 320, 240, { room: 'switch-room', stream: 'switch', codec: 'vp8' });
    const second = await waitFor(async () => {
      const st = await state();
      return st && st.codec === 'vp8' && st.generation > first.generation && st.decoder === 'configured'
        && st.stats.videoDecoded >= first.stats.videoDecoded + 30 && near(await canvasPixel(page, 'switch'), green) ? st : null;
    }, 20000);
    note(`before ${JSON.stringify(first)} after ${JSON.stringify(second)}`);
    ok(second, 'when the stream comes back as VP8 the player reconfigures its decoder and plays the new colour without a new click',
      JSON.stringify(await state()) + ' ' + JSON.stringify(await canvasPixel(page, 'switch')) + '\n' + (await logText(page)) + '\n' + pub.out.slice(-2000));
    ok(await page.getAttribute('#players .player[data-stream-id="switch"] .state', 'data-state') === 'PLAYING'
      && (await page.locator('#players .player[data-stream-id="switch"] .note').innerText()) === '',
      'the player is PLAYING with no note after the change');
    ok(page.errors.length === 0, 'no uncaught errors on the page across the codec change', page.errors.join('\n'));
  } finally {
    await page.context().close();
    await stop(pub, 'SIGINT');
  }
}

// (2)
async function publishesToGStreamer(browser, server) {
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'web-room', user_id: 'web-publisher', stream_id: 'web-cam' });
  let sub = null;
  try {
    ok(await login(page) === 'CONNECTED', 'a second page logs in to publish');
    await page.selectOption('#publish-size', '320x240');
    await page.click('#publish');
    const publishing = await waitFor(() => page.getAttribute('#publisher-state', 'data-state').then((s) => s === 'PUBLISHING'), 15000);
    ok(publishing, 'the page publishes the fake camera and microphone', await logText(page));
    if (!publishing) return;
    sub = gst(['-v',
      'zegosrc', 'name=z', `server=${server.ws}`, 'app-id=1', 'room-id=web-room', 'user-id=gst-viewer', 'stream-id=web-cam',
      'z.video_0', '!', 'queue', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink', 'name=vsink', 'silent=false', 'sync=false',
      'z.audio_0', '!', 'queue', '!', 'opusdec', '!', 'fakesink', 'name=asink', 'silent=false', 'sync=false']);
    const count = (sink) => (sub.out.match(new RegExp(`${sink}: last-message = chain`, 'g')) || []).length;
    await waitFor(() => count('vsink') >= 60 && count('asink') >= 10, 25000, 250);
    const video = count('vsink'), audio = count('asink');
    note(`zegosrc decoded ${video} video frames and ${audio} audio buffers`);
    const q = await page.locator('#publisher-quality').innerText();
    ok(video >= 60, 'zegosrc receives the page\'s stream and avdec_h264 decodes at least 60 frames', sub.out.slice(-3000) + '\n' + (await logText(page)));
    ok(audio >= 10, 'opusdec decodes the page\'s Opus audio', `${audio} buffers`);
    ok(/fps .* kbps/.test(q), 'the publisher shows a quality line', q);
    await page.click('#unpublish');
    ok(await waitFor(() => page.getAttribute('#publisher-state', 'data-state').then((s) => s === 'NO_PUBLISH'), 5000),
      'stopping publishing returns to NO_PUBLISH');
    ok(page.errors.length === 0, 'no uncaught errors on the publishing page', page.errors.join('\n'));
  } finally {
    if (sub) await stop(sub, 'SIGINT');
    await page.context().close();
  }
}

// A backlog on the publishing socket: the page drops video (and does not
// encode it) until the backlog has gone, then sends a keyframe marked
// DISCONT, and the stream decodes on the other side again.  Chromium does
// not let bufferedAmount grow on loopback (the data is handed on to its
// network process and the kernel first), so the test adds a simulated
// backlog of 1 MiB: over the video limit, under the audio one.
async function dropsVideoOnABacklog(browser, server) {
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'backlog-room', user_id: 'slow-publisher', stream_id: 'slow-cam' });
  let sub = null;
  try {
    ok(await login(page) === 'CONNECTED', 'a page logs in to publish over a slow link');
    await page.selectOption('#publish-size', '320x240');
    await page.click('#publish');
    if (!ok(await waitFor(() => page.getAttribute('#publisher-state', 'data-state').then((s) => s === 'PUBLISHING'), 15000),
      'it publishes', await logText(page))) return;
    sub = gst(['-v',
      'zegosrc', 'name=z', `server=${server.ws}`, 'app-id=1', 'room-id=backlog-room', 'user-id=gst-backlog-viewer', 'stream-id=slow-cam',
      'z.video_0', '!', 'queue', '!', 'h264parse', '!', 'avdec_h264', '!', 'fakesink', 'name=vsink', 'silent=false', 'sync=false']);
    const decoded = () => (sub.out.match(/vsink: last-message = chain/g) || []).length;
    const stats = () => page.evaluate(() => ({ ...window.zegoPage.publisher.stats }));
    ok(await waitFor(() => decoded() >= 30, 20000, 250), 'zegosrc decodes the page\'s video', sub.out.slice(-2000));
    const before = await stats();
    await page.evaluate(() => { window.zegoPage.publisher.simulatedBacklog = 1 << 20; });
    const during = await waitFor(async () => {
      const s = await stats();
      return s.backlogDrops >= 30 && s.audioSent >= before.audioSent + 25 ? s : null;
    }, 10000, 250);
    const decodedDuring = decoded();
    const quality = await page.locator('#publisher-quality').innerText();
    note(`before ${JSON.stringify(before)} during ${JSON.stringify(during)}: ${quality}`);
    ok(during && during.videoSent - before.videoSent <= 5 && during.audioSent > before.audioSent,
      'with a backlog over the video limit the page drops video rather than queue it, and audio goes on',
      `before ${JSON.stringify(before)} during ${JSON.stringify(during ?? await stats())}`);
    ok(/dropped [1-9]\d* .*buffered 10\d{5} B/.test(quality), 'the quality line shows the drops and the backlog', quality);
    ok((await logText(page)).includes('video dropped until the next keyframe'), 'the log says video waits for a keyframe');
    await page.evaluate(() => { window.zegoPage.publisher.simulatedBacklog = 0; });
    const after = await waitFor(async () => {
      const s = await stats();
      return s.recoveries >= 1 && decoded() >= decodedDuring + 30 ? s : null;
    }, 15000, 250);
    note(`after ${JSON.stringify(after)}; zegosrc decoded ${decodedDuring} then ${decoded()}`);
    ok(after && after.keyframes > during.keyframes, 'once the backlog has gone the page sends a keyframe marked DISCONT',
      JSON.stringify(after ?? await stats()));
    ok(after, 'and the stream decodes on the other side again', sub.out.slice(-2000));
    ok(page.errors.length === 0, 'no uncaught errors on the slow publishing page', page.errors.join('\n'));
  } finally {
    if (sub) await stop(sub, 'SIGINT');
    await page.context().close();
  }
}

// The signaling socket goes away under a logged-in page that publishes and
// plays: the page shows CONNECTING (RECONNECTING, 1002051), reconnects with
// backoff and resumes its session, or logs in afresh when the server has
// forgotten it (a restart), and its players and publisher go on without a
// click.  A server that stays silent is given up on after its reconnect
// window, with 1002053.
async function reconnectsAndResumes(browser) {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  let server = await startServer([], listen);
  let pub = publishPattern(server, '0xffe03080', 320, 240, { room: 'phoenix-room', stream: 'phoenix' });
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'phoenix-room', user_id: 'phoenix-viewer', stream_id: 'phoenix-cam' });
  const roomState = async () => ({
    state: await page.getAttribute('#room-state', 'data-state'),
    reason: await page.locator('#room-reason').innerText(),
    error: await page.locator('#room-error').isHidden() ? '' : await page.locator('#room-error').innerText(),
  });
  const decoded = () => page.evaluate(() => Object.fromEntries([...window.zegoPage.players].map(([id, { player }]) => [id, player.stats.videoDecoded])));
  const playingOn = async (base, frames, timeoutMs) => waitFor(async () => {
    const d = await decoded();
    return d.phoenix >= (base.phoenix || 0) + frames && d['phoenix-cam'] >= (base['phoenix-cam'] || 0) + frames ? d : null;
  }, timeoutMs, 250);
  try {
    ok(await login(page) === 'CONNECTED', 'a page logs in to a server that will go away', await logText(page));
    await page.selectOption('#publish-size', '320x240');
    await page.click('#publish');
    const both = await waitFor(async () => (await listed(page, 'streams', 'stream-id', 'phoenix')) && listed(page, 'streams', 'stream-id', 'phoenix-cam'), 15000);
    if (!ok(both, 'it publishes and sees the zegosink stream', (await logText(page)) + '\n' + pub.out.slice(-2000))) return;
    await page.click('#streams li[data-stream-id="phoenix"] button.play');
    await page.click('#streams li[data-stream-id="phoenix-cam"] button.play');
    let base = await playingOn({}, 30, 20000);
    if (!ok(base, 'it plays the zegosink stream and its own', JSON.stringify(await decoded()) + '\n' + (await logText(page)))) return;

    // The socket closes under the page; the server keeps the session.
    await page.evaluate(() => {
      const z = window.zegoPage;
      for (const { player } of z.players.values()) player.ws.kept = true;
      z.publisher.ws.kept = true;
      z.room.ws.close();
    });
    const resumed = await waitFor(async () => (await roomState()).state === 'CONNECTED' && page.evaluate(() => window.zegoPage.room.info.resumed === true), 10000);
    let log = await logText(page);
    ok(resumed && /room state CONNECTING \(RECONNECTING\) code 1002051/.test(log) && /room state CONNECTED \(RECONNECTED\)/.test(log) && log.includes('session resumed'),
      'when its signaling socket closes the page shows RECONNECTING (1002051), then resumes its session (RECONNECTED)', log);
    const kept = await page.evaluate(() => {
      const z = window.zegoPage;
      return [...z.players.values()].every(({ player }) => player.ws && player.ws.kept) && z.publisher.ws && z.publisher.ws.kept === true;
    });
    ok(kept && (await roomState()).error === '', 'a resumed session keeps its media sockets, and the error is cleared', JSON.stringify(await roomState()));
    base = await decoded();
    ok(await playingOn(base, 30, 10000), 'both players go on after the resumption', JSON.stringify(await decoded()));

    // The server restarts (SIGTERM: going_away, then gone) and forgets the session.
    await stop(server.child);
    const down = await waitFor(async () => {
      const st = await roomState();
      return st.state === 'CONNECTING' && st.reason.includes('RECONNECTING') ? st : null;
    }, 5000, 100);
    const players = await page.locator('#players .player').count();
    ok(down && down.error.startsWith('1002051: ') && players === 2 && (await page.getAttribute('#publisher-state', 'data-state')) === 'PUBLISH_REQUESTING',
      'when the server goes away the page shows RECONNECTING with 1002051 and keeps its players and publisher', JSON.stringify(down ?? await roomState()) + ` players ${players}\n` + (await logText(page)));
    server = await startServer([], listen);
    const back = await waitFor(async () => (await roomState()).state === 'CONNECTED', 20000);
    log = await logText(page);
    ok(back && log.includes('logging in afresh') && log.includes('logged in afresh'),
      'when the server is back the page logs in afresh (the session was gone) without a click', log);
    base = await decoded();
    const again = await playingOn(base, 30, 25000);
    ok(again && (await page.getAttribute('#publisher-state', 'data-state')) === 'PUBLISHING',
      'the page publishes again and both players play on, the zegosink stream and its own', JSON.stringify(await decoded()) + '\n' + (await logText(page)) + '\n' + pub.out.slice(-2000));
    ok(page.errors.length === 0, 'no uncaught errors on the page across the reconnections', page.errors.join('\n'));
  } finally {
    await page.context().close();
    await stop(pub, 'SIGINT');
    await stop(server.child);
  }

  // A server that stops answering (as a network drop would: no close): the
  // page notices the silence after three heartbeats, and gives up when the
  // server's reconnect window has passed.
  server = await startServer(['--heartbeat-interval', '1000', '--reconnect-window', '3000']);
  const lone = await openPage(browser, server.http, { app_id: 1, room_id: 'silent-room', user_id: 'silent-viewer' });
  try {
    ok(await login(lone) === 'CONNECTED', 'a page logs in to a server that will fall silent');
    server.child.kill('SIGSTOP');
    const t0 = Date.now();
    const lost = await waitFor(async () => (await lone.getAttribute('#room-state', 'data-state')) === 'CONNECTING', 10000, 100);
    const tLost = Date.now() - t0;
    ok(lost && (await lone.locator('#room-reason').innerText()).includes('RECONNECTING'),
      `the page notices the silence and reconnects (after ${tLost} ms)`, await logText(lone));
    const gaveUp = await waitFor(async () => (await lone.getAttribute('#room-state', 'data-state')) === 'DISCONNECTED', 10000, 100);
    const tGaveUp = Date.now() - t0 - tLost;
    const err = await lone.locator('#room-error').innerText();
    ok(gaveUp && err.startsWith('1002053: ') && (await lone.locator('#room-reason').innerText()).includes('RECONNECT_FAILED') && tGaveUp >= 2500 && tGaveUp <= 6000,
      `it gives up with 1002053 (RECONNECT_FAILED) when the 3 s reconnect window has passed (after ${tGaveUp} ms)`, `${err}\n` + (await logText(lone)));
    ok(await lone.locator('#login').isEnabled(), 'and the login button is enabled again');
  } finally {
    await lone.context().close();
    server.child.kill('SIGCONT');
    await stop(server.child);
  }
}

// (3)
async function twoPagesSeeEachOther(browser, server) {
  const room = 'two-pages';
  const a = await openPage(browser, server.http, { app_id: 1, room_id: room, user_id: 'alice', user_name: 'Alice', stream_id: 'alice-cam' });
  const b = await openPage(browser, server.http, { app_id: 1, room_id: room, user_id: 'bob', user_name: 'Bob', stream_id: 'bob-cam' });
  try {
    ok(await login(a) === 'CONNECTED' && await login(b) === 'CONNECTED', 'two pages log into one room');
    ok(await waitFor(() => listed(a, 'users', 'user-id', 'bob'), 5000) && (await logText(a)).includes('"update":"add"'),
      'the first page sees the second user join (user_update add)', await logText(a));
    ok(await listed(b, 'users', 'user-id', 'alice'), 'the second page lists the first user', await logText(b));
    for (const p of [a, b]) {
      await p.selectOption('#publish-size', '320x240');
      await p.click('#publish');
    }
    ok(await waitFor(() => listed(b, 'streams', 'stream-id', 'alice-cam'), 10000), 'the second page sees the first page\'s stream appear', await logText(b));
    ok(await waitFor(() => listed(a, 'streams', 'stream-id', 'bob-cam'), 10000), 'the first page sees the second page\'s stream appear', await logText(a));
    await a.click('#logout');
    ok(await waitFor(() => a.getAttribute('#room-state', 'data-state').then((s) => s === 'DISCONNECTED'), 5000)
      && (await a.locator('#room-reason').innerText()).includes('LOGOUT'), 'logging out shows DISCONNECTED (LOGOUT)');
    const gone = await waitFor(async () => !(await listed(b, 'users', 'user-id', 'alice')) && !(await listed(b, 'streams', 'stream-id', 'alice-cam')), 5000);
    const log = await logText(b);
    ok(gone && /stream_update.*"delete".*alice-cam/.test(log) && /user_update.*"delete".*alice/.test(log),
      'the other page sees the user and its stream leave', log);
    ok(a.errors.length === 0 && b.errors.length === 0, 'no uncaught errors on either page', [...a.errors, ...b.errors].join('\n'));
  } finally {
    await a.context().close();
    await b.context().close();
  }
}

function makeToken(userId, room) {
  const p = run(tokenBin, ['--app-id', '1', '--user-id', userId, '--room-id', room, '--privilege', 'login,publish'], { ZEGO_SERVER_SECRET: APP_SECRET });
  return p.done.then(() => p.out.trim());
}

// (4)
async function wrongTokenShowsTheError(browser) {
  const server = await startServer(['--app', `1:${APP_SECRET}`]);
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'locked', user_id: 'mallory', token: '04AAAAAGVTx2oAEGJvZ3VzLWl2LWJ5dGVzLQAQYm9ndXMtY2lwaGVydGV4dA==' });
  try {
    ok(await login(page) === 'DISCONNECTED', 'a wrong token leaves the room DISCONNECTED');
    const err = await page.locator('#room-error').innerText();
    const reason = await page.locator('#room-reason').innerText();
    ok(err.startsWith('1002033: ') && err.length > ' 1002033: '.length + 5 && reason.includes('LOGIN_FAILED'),
      'the page shows the error code 1002033 and the server\'s message', `${reason} | ${err}`);
    await page.fill('#token', '');
    ok(await login(page) === 'DISCONNECTED' && (await page.locator('#room-error').innerText()).startsWith('1002067: '),
      'no token shows 1002067', await page.locator('#room-error').innerText());
    await page.fill('#token', await makeToken('mallory', 'locked'));
    ok(await login(page) === 'CONNECTED' && await page.locator('#room-error').isHidden(),
      'a token made by zego-token logs in and clears the error', await logText(page));
  } finally {
    await page.context().close();
    await stop(server.child);
  }
}

// A stream whose video is H.265 (which this Chromium cannot decode) and whose
// audio is AAC, published by hand over the raw protocol from a page.
async function unsupportedCodecsAreNamed(browser, server) {
  const raw = await openPage(browser, server.http, {});
  const page = await openPage(browser, server.http, { app_id: 1, room_id: 'codecs', user_id: 'codec-viewer' });
  try {
    const published = await raw.evaluate(async (signalUrl) => {
      const open = (url, proto) => new Promise((resolve, reject) => {
        const ws = new WebSocket(url, proto);
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error(`cannot open ${url}`));
      });
      const sig = await open(signalUrl, 'zego-signal.v1');
      const replies = [];
      sig.onmessage = (ev) => replies.push(JSON.parse(ev.data));
      const request = async (msg) => {
        sig.send(JSON.stringify(msg));
        for (let i = 0; i < 50 && !replies.some((r) => r.seq === msg.seq); i++) await new Promise((r) => setTimeout(r, 100));
        return replies.find((r) => r.seq === msg.seq);
      };
      await request({ type: 'login', seq: 1, version: 1, app_id: 1, room_id: 'codecs', user_id: 'raw-publisher' });
      const pub = await request({ type: 'publish', seq: 2, stream_id: 'hevc-aac' });
      const media = await open(`${pub.media.url}?ticket=${pub.media.ticket}`, 'zego-publish.v1');
      media.send(JSON.stringify({ type: 'stream_info', stream_id: 'hevc-aac', generation: 1, tracks: [
        { id: 0, kind: 'video', codec: 'h265', codec_string: 'hvc1.1.6.L93.B0', width: 320, height: 240 },
        { id: 1, kind: 'audio', codec: 'aac', codec_string: 'mp4a.40.2', sample_rate: 48000, channels: 2, config: btoa('\x11\x90') }] }));
      window.keep = { sig, media };
      return pub.code;
    }, server.ws);
    ok(published === 0, 'a raw publisher announces an H.265 + AAC stream');
    ok(await login(page) === 'CONNECTED' && await waitFor(() => listed(page, 'streams', 'stream-id', 'hevc-aac'), 5000),
      'the page lists the H.265 stream', await logText(page));
    await page.click('#streams li[data-stream-id="hevc-aac"] button.play');
    const sel = '#players .player[data-stream-id="hevc-aac"] .note';
    const noteText = await waitFor(async () => {
      const t = await page.locator(sel).innerText().catch(() => '');
      return t.includes('not supported') ? t : '';
    }, 5000);
    ok(/H\.265 is not supported by this browser/.test(noteText), 'the player says H.265 is not supported by this browser', noteText);
    const aac = await waitFor(() => page.evaluate(() => window.zegoPage.players.get('hevc-aac')?.player.tracks.get(1)?.decoder?.state === 'configured'), 5000);
    ok(aac, 'the AAC track configures an AudioDecoder with its AudioSpecificConfig', await logText(page));
  } finally {
    await raw.context().close();
    await page.context().close();
  }
}

// The page over https, its sockets over wss, with the server's TLS options.
async function worksOverHttps(browser) {
  const dir = path.join(outDir, 'tls');
  mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]).done;
  if (made.code !== 0) {
    ok(false, 'openssl makes a test certificate');
    return;
  }
  const server = await startServer(['--tls-cert', cert, '--tls-key', key]);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  try {
    await page.goto(`${server.http}/#app_id=1&room_id=tls&user_id=tls-user&stream_id=tls-cam`);
    ok(await page.inputValue('#server') === server.ws && server.ws.startsWith('wss://'),
      'over https the page defaults to the server\'s wss:// address', await page.inputValue('#server'));
    ok(await login(page) === 'CONNECTED', 'the page logs in over wss');
    await page.selectOption('#publish-size', '320x240');
    await page.click('#publish');
    const seen = await waitFor(() => listed(page, 'streams', 'stream-id', 'tls-cam'), 10000);
    if (seen) await page.click('#streams li[data-stream-id="tls-cam"] button.play');
    const decoded = await waitFor(() => page.evaluate(() => (window.zegoPage.players.get('tls-cam')?.player.stats.videoDecoded || 0) >= 20), 15000);
    ok(seen && decoded, 'over https the page publishes and plays its own stream through wss media sockets', await logText(page));
  } finally {
    await context.close();
    await stop(server.child);
  }
}

const watchdog = setTimeout(() => {
  console.log('Bail out! the browser tests did not finish within 240 s');
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}, 240000);

try {
  await main();
} catch (e) {
  ok(false, 'the tests ran to the end', e.stack || e.message);
}
clearTimeout(watchdog);
for (const c of children) await stop(c, 'SIGKILL');
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
