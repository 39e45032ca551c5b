#!/usr/bin/env python3
"""Writes part of Fashion-MNIST out as a folder of images, DIR/<class>/<index>.<ext>, as a user's own folder would be.

Each 28x28 image is upscaled to 64x64 with PIL's bilinear filter and saved, by its index in the class, as one of:
  0 PNG RGB, 1 JPEG RGB (quality 90), 2 PNG grey, 3 PNG RGBA (alpha 128 + v / 2), 4 JPEG grey (quality 90).
Reads Debian's dataset-fashion-mnist (IDX files, gzip). Prints a JSON manifest: [{path, class, variant}].

usage: make-fashion-folder.py OUT_DIR [--per-class N] [--classes 0,1,2] [--source t10k|train]
"""
import argparse
import gzip
import json
import os
import struct

from PIL import Image

NAMES = ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot']
VARIANTS = ['png-rgb', 'jpeg-rgb', 'png-grey', 'png-rgba', 'jpeg-grey']
DATA = '/usr/share/datasets/fashion-mnist'


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    dims = data[3]
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    assert magic >> 8 == 0x08, f'{path}: not an unsigned-byte IDX file'
    return shape, data[4 + 4 * dims:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('out')
    parser.add_argument('--per-class', type=int, default=10)
    parser.add_argument('--classes', default='0,1,2,3')
    parser.add_argument('--source', default='t10k', choices=['t10k', 'train'])
    args = parser.parse_args()
    classes = [int(c) for c in args.classes.split(',')]
    (count, h, w), pixels = read_idx(f'{DATA}/{args.source}-images-idx3-ubyte.gz')
    _, labels = read_idx(f'{DATA}/{args.source}-labels-idx1-ubyte.gz')
    written = {c: 0 for c in classes}
    manifest = []
    for i in range(count):
        label = labels[i]
        if label not in written or written[label] >= args.per_class:
            continue
        k = written[label]
        written[label] += 1
        grey = Image.frombytes('L', (w, h), pixels[i * h * w:(i + 1) * h * w]).resize((64, 64), Image.BILINEAR)
        variant = VARIANTS[k % len(VARIANTS)]
        folder = os.path.join(args.out, NAMES[label])
        os.makedirs(folder, exist_ok=True)
        ext = 'jpg' if variant.startswith('jpeg') else 'png'
        path = os.path.join(folder, f'{i:05d}.{ext}')
        if variant == 'png-rgb':
            grey.convert('RGB').save(path)
        elif variant == 'jpeg-rgb':
            grey.convert('RGB').save(path, quality=90)
        elif variant == 'png-grey':
            grey.save(path)
        elif variant == 'png-rgba':
            rgba = grey.convert('RGBA')
            rgba.putalpha(grey.point(lambda v: 128 + v // 2))
            rgba.save(path)
        else:
            grey.save(path, quality=90)
        manifest.append({'path': os.path.relpath(path, args.out), 'class': NAMES[label], 'variant': variant})
        if all(n >= args.per_class for n in written.values()):
            break
    print(json.dumps(manifest))


if __name__ == '__main__':
    main()
