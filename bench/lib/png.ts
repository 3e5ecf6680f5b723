// A minimal PNG writer and line-chart renderer for benchmark plots, on node:zlib alone (deflate and CRC-32):
// 8-bit RGB, one IDAT chunk, filter type 0. Enough for a few panels of time series; no text beyond digits.
import { crc32, deflateSync } from "node:zlib";

export type Rgb = readonly [number, number, number];

export class Canvas {
  readonly width: number;
  readonly height: number;
  readonly #pixels: Uint8Array;

  constructor(width: number, height: number, background: Rgb = [255, 255, 255]) {
    this.width = width;
    this.height = height;
    this.#pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.#pixels.set(background, i * 3);
  }

  set(x: number, y: number, color: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    this.#pixels.set(color, (yi * this.width + xi) * 3);
  }

  /** A line from (x0,y0) to (x1,y1), `thickness` pixels wide (Bresenham, thickened vertically). */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let t = 0; t < thickness; t++) this.set(x, y + t - Math.floor(thickness / 2), color);
    }
  }

  rect(x: number, y: number, w: number, h: number, color: Rgb): void {
    this.line(x, y, x + w, y, color);
    this.line(x, y + h, x + w, y + h, color);
    this.line(x, y, x, y + h, color);
    this.line(x + w, y, x + w, y + h, color);
  }

  /** Digits, ".", "-" and a few letters in a 3×5 pixel font, scaled by `scale`. */
  text(x: number, y: number, text: string, color: Rgb, scale = 2): void {
    let cx = x;
    for (const ch of text) {
      const glyph = FONT[ch] ?? FONT[" "];
      for (let row = 0; row < 5; row++) {
        for (let col = 0; col < 3; col++) {
          if (!((glyph?.[row] ?? 0) & (4 >> col))) continue;
          for (let dy = 0; dy < scale; dy++)
            for (let dx = 0; dx < scale; dx++) this.set(cx + col * scale + dx, y + row * scale + dy, color);
        }
      }
      cx += 4 * scale;
    }
  }

  png(): Buffer {
    const raw = Buffer.alloc((this.width * 3 + 1) * this.height);
    for (let y = 0; y < this.height; y++) {
      raw[y * (this.width * 3 + 1)] = 0; // filter: none
      raw.set(
        this.#pixels.subarray(y * this.width * 3, (y + 1) * this.width * 3),
        y * (this.width * 3 + 1) + 1,
      );
    }
    const header = Buffer.alloc(13);
    header.writeUInt32BE(this.width, 0);
    header.writeUInt32BE(this.height, 4);
    header[8] = 8; // bit depth
    header[9] = 2; // colour type: RGB
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", header),
      chunk("IDAT", deflateSync(raw)),
      chunk("IEND", Buffer.alloc(0)),
    ]);
  }
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed) >>> 0, 0);
  return Buffer.concat([length, typed, crc]);
}

/** 3×5 glyphs, one row per entry, bit 2 = left column. */
const FONT: Record<string, number[]> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 1, 1],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  ".": [0, 0, 0, 0, 2],
  "-": [0, 0, 7, 0, 0],
  " ": [0, 0, 0, 0, 0],
  "%": [5, 1, 2, 4, 5],
  M: [5, 7, 7, 5, 5],
  B: [6, 5, 6, 5, 6],
  F: [7, 4, 6, 4, 4],
  D: [6, 5, 5, 5, 6],
  S: [7, 4, 7, 1, 7],
  C: [7, 4, 4, 4, 7],
  P: [7, 5, 7, 4, 4],
  U: [5, 5, 5, 5, 7],
  R: [6, 5, 6, 5, 5],
  m: [0, 0, 7, 7, 5],
  i: [2, 0, 2, 2, 2],
  n: [0, 0, 6, 5, 5],
  s: [0, 3, 6, 1, 6],
};

export interface Series {
  label: string;
  color: Rgb;
  values: number[];
}

/**
 * Stacked panels, one per series, sharing the x axis (sample index); each panel is scaled from 0 to its
 * maximum and labelled with the series label and that maximum.
 */
export function plotPanels(series: Series[], width = 900, panelHeight = 160): Buffer {
  const margin = 12;
  const top = 22;
  const height = series.length * (panelHeight + top + margin) + margin;
  const canvas = new Canvas(width, height);
  series.forEach((s, i) => {
    const y0 = margin + i * (panelHeight + top + margin) + top;
    const x0 = margin;
    const w = width - 2 * margin;
    const max = Math.max(...s.values, 1e-9);
    canvas.text(x0, y0 - top + 4, `${s.label} ${formatMax(max)}`, [40, 40, 40]);
    canvas.rect(x0, y0, w, panelHeight, [200, 200, 200]);
    for (let g = 1; g < 4; g++)
      canvas.line(x0, y0 + (panelHeight * g) / 4, x0 + w, y0 + (panelHeight * g) / 4, [235, 235, 235]);
    const n = s.values.length;
    const px = (k: number) => x0 + (n <= 1 ? 0 : (w * k) / (n - 1));
    const py = (v: number) => y0 + panelHeight - (panelHeight * v) / max;
    for (let k = 1; k < n; k++)
      canvas.line(px(k - 1), py(s.values[k - 1] as number), px(k), py(s.values[k] as number), s.color, 2);
    if (n === 1) canvas.set(px(0), py(s.values[0] as number), s.color);
  });
  return canvas.png();
}

function formatMax(max: number): string {
  return max >= 100 ? String(Math.round(max)) : max.toFixed(1);
}
