#!/usr/bin/env python3
"""Writes one small image per format and pixel layout that the Node decoder must read, into OUT_DIR, and prints a JSON
manifest [{file, kind, exact}] ("exact": whether decoders must agree to the byte; JPEG is lossy and decoders differ).

Formats: PNG (grey, grey + alpha, RGB, RGBA, palette, palette with transparency, 16-bit grey, 16-bit grey + alpha,
16-bit RGBA), JPEG (RGB, grey, EXIF orientation 6), GIF (two frames: the first is read), TIFF, WebP lossless.
16-bit samples are v * 257 of an 8-bit v, so that 16 -> 8 bits gives v back exactly.

usage: make-format-samples.py OUT_DIR
"""
import io
import json
import os
import struct
import sys
import zlib

from PIL import Image


def pattern(w, h):
    im = Image.new('RGB', (w, h))
    im.putdata([((x * 37 + y * 11) % 256, (y * 23 + 60) % 256, (x * y * 3) % 256) for y in range(h) for x in range(w)])
    return im


def png16(w, h, colour_type, samples):
    """A 16-bit PNG written by hand (PIL writes 16-bit grey only): colour type 0 grey, 4 grey + alpha, 6 RGBA."""
    per = {0: 1, 4: 2, 6: 4}[colour_type] * w
    rows = b''.join(b'\0' + struct.pack(f'>{per}H', *samples[y * per:(y + 1) * per]) for y in range(h))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack('>IIBBBBB', w, h, 16, colour_type, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rgb = pattern(40, 24)
    grey = rgb.convert('L')
    alpha = Image.new('L', rgb.size)
    alpha.putdata([(x * 6 + y * 3) % 256 for y in range(24) for x in range(40)])
    manifest = []

    def save(name, im, kind, exact=True, **options):
        im.save(os.path.join(out, name), **options)
        manifest.append({'file': name, 'kind': kind, 'exact': exact})

    save('grey.png', grey, 'PNG grey')
    la = Image.merge('LA', (grey, alpha))
    save('grey-alpha.png', la, 'PNG grey + alpha')
    save('rgb.png', rgb, 'PNG RGB')
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    save('rgba.png', rgba, 'PNG RGBA')
    save('palette.png', rgb.quantize(16), 'PNG palette')
    pt = rgb.quantize(16)
    save('palette-transparent.png', pt, 'PNG palette + transparency', transparency=3)
    save('rgb.jpg', rgb, 'JPEG RGB', exact=False, quality=92)
    save('grey.jpg', grey, 'JPEG grey', exact=False, quality=92)
    exif = Image.Exif()
    exif[0x0112] = 6
    save('rotated.jpg', rgb, 'JPEG RGB, EXIF orientation 6', exact=False, quality=92, exif=exif.tobytes())
    second = Image.new('RGB', rgb.size, (255, 0, 0))
    frames = [rgb.quantize(32), second.quantize(2)]
    frames[0].save(os.path.join(out, 'animated.gif'), save_all=True, append_images=frames[1:], duration=100)
    manifest.append({'file': 'animated.gif', 'kind': 'GIF, 2 frames', 'exact': True})
    save('rgb.tif', rgb, 'TIFF RGB')
    save('rgba.webp', rgba, 'WebP lossless RGBA', lossless=True)
    g = list(grey.getdata())
    a = list(alpha.getdata())
    wide = Image.new('I;16', grey.size)
    wide.putdata([v * 257 for v in g])
    save('grey16.png', wide, 'PNG 16-bit grey')
    with open(os.path.join(out, 'grey-alpha16.png'), 'wb') as f:
        f.write(png16(40, 24, 4, [s * 257 for pair in zip(g, a) for s in pair]))
    manifest.append({'file': 'grey-alpha16.png', 'kind': 'PNG 16-bit grey + alpha', 'exact': True})
    rgba_samples = [s * 257 for px in rgba.getdata() for s in px]
    with open(os.path.join(out, 'rgba16.png'), 'wb') as f:
        f.write(png16(40, 24, 6, rgba_samples))
    manifest.append({'file': 'rgba16.png', 'kind': 'PNG 16-bit RGBA', 'exact': True})
    print(json.dumps(manifest))


if __name__ == '__main__':
    main()
