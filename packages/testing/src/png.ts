// PNG files written without an encoder library, so that tests of decoding (sharp, browsers, the server) get inputs
// made by other code than the decoder under test: 8-bit images of 1-4 channels, and a decompression bomb.
import { deflateSync } from 'node:zlib';

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** One PNG chunk: length, type, data, and the CRC of type and data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function png(ihdr: Uint8Array, idat: Uint8Array, extra: Uint8Array[] = []): Uint8Array<ArrayBuffer> {
  const parts = [
    SIGNATURE,
    pngChunk('IHDR', ihdr),
    ...extra,
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ];
  return Uint8Array.from(Buffer.concat(parts));
}

function header(width: number, height: number, bitDepth: number, colourType: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, colourType, 0, 0, 0], 8);
  return ihdr;
}

/**
 * An 8-bit PNG of HWC pixels (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA channels), every row with filter 0.
 *
 * @param text - if given, a tEXt chunk of it (to make a file of a chosen length).
 */
export function encodePng(
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  pixels: Uint8Array,
  text?: string,
): Uint8Array<ArrayBuffer> {
  const stride = width * channels;
  const rows = new Uint8Array(height * (1 + stride));
  for (let y = 0; y < height; y++) rows.set(pixels.subarray(y * stride, (y + 1) * stride), y * (1 + stride) + 1);
  const comment = text === undefined ? [] : [pngChunk('tEXt', Buffer.from(`Comment\0${text}`, 'latin1'))];
  return png(header(width, height, 8, [0, 0, 4, 2, 6][channels]!), deflateSync(rows), comment);
}

/** A valid 1-bit grey PNG of width x height, all black: a few hundred kB that decode to width x height pixels. */
export function pngBomb(width: number, height: number): Uint8Array<ArrayBuffer> {
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  return png(header(width, height, 1, 0), deflateSync(rows, { level: 9 }));
}
