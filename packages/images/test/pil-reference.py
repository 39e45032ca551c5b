#!/usr/bin/env python3
"""PIL as the reference the tests compare @depthfold/images with. Reads a JSON list of operations on stdin, runs each,
writes raw pixel bytes where told, and prints a JSON list of results.

  {"op": "resize", "mode": "L"|"RGB", "width", "height", "input": RAW, "size": [w, h], "crop": [l, t, r, b] | null,
   "before": bool, "output": RAW}
      Image.resize(size, BILINEAR, reducing_gap=None), then crop(box) (torchvision's Resize + CenterCrop), or, with
      "before", crop(box) then resize (RandomResizedCrop).
  {"op": "convert", "mode": "RGB", "width", "height", "input": RAW, "to": "L", "output": RAW}
  {"op": "decode", "file": PATH, "output": RAW}
      Image.open, first frame, ImageOps.exif_transpose; palette images become RGB or RGBA, '1' becomes L; 16-bit
      modes are written as little-endian uint16. Result: {"mode", "width", "height", "channels", "bits"}.
"""
import json
import sys

from PIL import Image, ImageOps

CHANNELS = {'L': 1, 'LA': 2, 'RGB': 3, 'RGBA': 4}


def read_raw(op):
    with open(op['input'], 'rb') as f:
        return Image.frombytes(op['mode'], (op['width'], op['height']), f.read())


def decode(op):
    im = Image.open(op['file'])
    im.seek(0)
    im = ImageOps.exif_transpose(im)
    if im.mode == 'P':
        im = im.convert('RGBA' if 'transparency' in im.info else 'RGB')
    elif im.mode == '1':
        im = im.convert('L')
    if im.mode in ('I;16', 'I;16B', 'I'):
        data = im.convert('I').tobytes('raw', 'I')
        words = [int.from_bytes(data[i:i + 4], sys.byteorder) for i in range(0, len(data), 4)]
        with open(op['output'], 'wb') as f:
            f.write(b''.join(v.to_bytes(2, 'little') for v in words))
        return {'mode': im.mode, 'width': im.width, 'height': im.height, 'channels': 1, 'bits': 16}
    with open(op['output'], 'wb') as f:
        f.write(im.tobytes())
    return {'mode': im.mode, 'width': im.width, 'height': im.height, 'channels': CHANNELS[im.mode], 'bits': 8}


def run(op):
    if op['op'] == 'decode':
        return decode(op)
    im = read_raw(op)
    if op['op'] == 'convert':
        out = im.convert(op['to'])
    elif op['op'] == 'resize':
        crop = op.get('crop')
        if crop and op.get('before'):
            out = im.crop(tuple(crop)).resize(tuple(op['size']), Image.BILINEAR, reducing_gap=None)
        else:
            out = im.resize(tuple(op['size']), Image.BILINEAR, reducing_gap=None)
            if crop:
                out = out.crop(tuple(crop))
    else:
        raise ValueError(f"unknown op {op['op']}")
    with open(op['output'], 'wb') as f:
        f.write(out.tobytes())
    return {'width': out.width, 'height': out.height}


print(json.dumps([run(op) for op in json.load(sys.stdin)]))
