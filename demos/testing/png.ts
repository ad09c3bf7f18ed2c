/**
 * A minimal PNG decoder for the browser tests' pixel checks: 8-bit greyscale, RGB or RGBA (with or
 * without alpha), non-interlaced, which is what Chromium's screenshots are.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** RGBA, row-major */
  data: Uint8Array;
}

export function decodePng(png: Uint8Array): Image {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, k) => png[k] === b)) throw new Error('not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8, width = 0, height = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    const body = png.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const depth = body[8];
      colorType = body[9];
      if (depth !== 8 || body[12] !== 0) throw new Error(`unsupported PNG: bit depth ${depth}, interlace ${body[12]}`);
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels) throw new Error(`unsupported PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0, b = prev[x], c = x >= channels ? prev[x - channels] : 0;
      let v = line[x];
      switch (filter) {
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: {
          const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
      }
      out[x] = v & 255;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let k = 0; k < width * height; k++) {
    const s = k * channels;
    if (channels >= 3) { data[4 * k] = pixels[s]; data[4 * k + 1] = pixels[s + 1]; data[4 * k + 2] = pixels[s + 2]; }
    else { data[4 * k] = data[4 * k + 1] = data[4 * k + 2] = pixels[s]; }
    data[4 * k + 3] = channels === 4 ? pixels[s + 3] : channels === 2 ? pixels[s + 1] : 255;
  }
  return { width, height, data };
}

export interface PixelStats {
  /** fraction of pixels farther than `tolerance` from the background colour */
  drawn: number;
  /** distinct colours among the drawn pixels, quantised to 4 bits per channel */
  colors: number;
  /** fraction of drawn pixels in each quarter of the width (left to right) */
  byQuarter: number[];
}

export function pixelStats(img: Image, background: [number, number, number], tolerance = 24): PixelStats {
  let drawn = 0;
  const colors = new Set<number>();
  const quarters = [0, 0, 0, 0];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const k = 4 * (y * img.width + x);
      const [r, g, b] = [img.data[k], img.data[k + 1], img.data[k + 2]];
      if (Math.abs(r - background[0]) + Math.abs(g - background[1]) + Math.abs(b - background[2]) <= tolerance) continue;
      drawn++;
      colors.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
      quarters[Math.min(3, Math.floor((4 * x) / img.width))]++;
    }
  }
  const n = img.width * img.height;
  return { drawn: drawn / n, colors: colors.size, byQuarter: quarters.map((q) => q / (n / 4)) };
}
