#!/usr/bin/env python3
"""Writes the small Fashion-MNIST subset committed under data/fashion-mnist/ (PNG files in one folder per
class, the layout Model Builder and mlContext.Transforms.LoadImages pipelines use).

Source: the full set fetched by eng/data/fetch-fashion-mnist.sh (Debian's dataset-fashion-mnist, MIT).
Deterministic: the first N images of each class in file order, from the official train and test splits.
Usage: make-fashion-mnist-subset.py SOURCE_DIR OUTPUT_DIR [TRAIN_PER_CLASS] [TEST_PER_CLASS]
Standard library only (gzip, zlib, struct)."""
import gzip
import os
import struct
import sys
import zlib

CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        size = rows * cols
        return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)], rows, cols
    return list(data[8:8 + count]), None, None


def png(pixels, width, height):
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def write_split(source, output, prefix, split, per_class):
    images, rows, cols = read_idx(os.path.join(source, f"{prefix}-images-idx3-ubyte.gz"))
    labels, _, _ = read_idx(os.path.join(source, f"{prefix}-labels-idx1-ubyte.gz"))
    counts = [0] * len(CLASSES)
    for index, (image, label) in enumerate(zip(images, labels)):
        if counts[label] >= per_class:
            continue
        counts[label] += 1
        folder = os.path.join(output, split, CLASSES[label])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{index:05d}.png"), "wb") as f:
            f.write(png(image, cols, rows))
        if min(counts) >= per_class:
            break


def main():
    source, output = sys.argv[1], sys.argv[2]
    train = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    test = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    write_split(source, output, "train", "train", train)
    write_split(source, output, "t10k", "test", test)


if __name__ == "__main__":
    main()
