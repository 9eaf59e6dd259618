#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_quantized_checkpoint (tests/fuzz/corpus/quantized_checkpoint/): for each of
the target's layouts, one valid linear layer "w" of out x in, as a safetensors file after the choice byte.
Pure standard library: run with any python3."""
import json
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "quantized_checkpoint"


def safetensors(tensors):
    header, data, offset = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header).encode()
    while (8 + len(text)) % 8:
        text += b" "
    return struct.pack("<Q", len(text)) + text + data


def awq(out, inp):
    qweight = b"".join(struct.pack("<I", (0x76543210 + 0x11111111 * (k % 7)) & 0xFFFFFFFF)
                       for k in range(inp) for _ in range(out // 8))
    qzeros = b"".join(struct.pack("<I", 0x88888888) for _ in range(inp // 128) for _ in range(out // 8))
    scales = b"".join(struct.pack("<e", 0.01 * (1 + o % 5)) for _ in range(inp // 128) for o in range(out))
    return safetensors([("w.qweight", "I32", [inp, out // 8], qweight), ("w.qzeros", "I32", [inp // 128, out // 8], qzeros),
                        ("w.scales", "F16", [inp // 128, out], scales)])


def int8(out, inp):
    qweight = bytes(((r * 7 + k * 3) % 255) for r in range(out) for k in range(inp))
    scales = b"".join(struct.pack("<f", 0.01 * (1 + r % 3)) for r in range(out))
    return safetensors([("w.qweight", "I8", [out, inp], qweight), ("w.scales", "F32", [out], scales)])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    # choice byte: bit 0 layout (0 AWQ, 1 int8), bits 1-2 out = 8 * (1 + n), bit 3 in = 128 * (1 + n)
    (OUT / "awq-8x128.bin").write_bytes(bytes([0b0000]) + awq(8, 128))
    (OUT / "awq-16x128.bin").write_bytes(bytes([0b0010]) + awq(16, 128))
    (OUT / "int8-8x128.bin").write_bytes(bytes([0b0001]) + int8(8, 128))


if __name__ == "__main__":
    main()
