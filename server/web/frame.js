// The media frame of the wire protocol (docs/protocol.md, "Media frames"):
// a 36-byte big-endian header, then the payload.

export const FRAME_VERSION = 1;
export const FRAME_HEADER_SIZE = 36;
export const FLAG_KEY = 0x01;
export const FLAG_CONFIG = 0x02;
export const FLAG_DISCONT = 0x04;

// Parses one binary message; throws an Error saying what is wrong with it.
export function parseFrame(buffer) {
  if (buffer.byteLength < FRAME_HEADER_SIZE) throw new Error(`frame of ${buffer.byteLength} bytes is shorter than its header`);
  const v = new DataView(buffer);
  const version = v.getUint8(0);
  if (version !== FRAME_VERSION) throw new Error(`frame version ${version} is not ${FRAME_VERSION}`);
  const headerSize = v.getUint8(1);
  if (headerSize < FRAME_HEADER_SIZE) throw new Error(`frame header size ${headerSize} is below ${FRAME_HEADER_SIZE}`);
  const size = v.getUint32(32);
  if (size === 0 || headerSize + size !== buffer.byteLength) throw new Error(`frame payload size ${size} does not match the message (${buffer.byteLength} bytes)`);
  return {
    track: v.getUint8(2),
    flags: v.getUint8(3),
    sequence: v.getUint32(4),
    pts: Number(v.getBigInt64(8)),
    dts: Number(v.getBigInt64(16)),
    captureUs: Number(v.getBigInt64(24)),
    payload: new Uint8Array(buffer, headerSize, size),
  };
}

// Builds one binary message from a header and a payload (Uint8Array).
export function buildFrame({ track, flags, sequence, pts, dts, captureUs }, payload) {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.byteLength);
  const v = new DataView(out.buffer);
  v.setUint8(0, FRAME_VERSION);
  v.setUint8(1, FRAME_HEADER_SIZE);
  v.setUint8(2, track);
  v.setUint8(3, flags);
  v.setUint32(4, sequence >>> 0);
  v.setBigInt64(8, BigInt(Math.round(pts)));
  v.setBigInt64(16, BigInt(Math.round(dts ?? pts)));
  v.setBigInt64(24, BigInt(Math.round(captureUs || 0)));
  v.setUint32(32, payload.byteLength);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

export function base64ToBytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The media socket URL: the endpoint's URL with its ticket as a query parameter.
export function mediaUrl(media) {
  return media.url + (media.url.includes('?') ? '&' : '?') + 'ticket=' + encodeURIComponent(media.ticket);
}
