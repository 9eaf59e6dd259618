"""A minimal safetensors writer (Debian 12 has no python3-safetensors): an 8-byte little-endian header length,
a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data."""
import json
import struct

import torch


def bf16_bytes(t):
    """Round-to-nearest-even float32 -> bfloat16, as raw little-endian bytes."""
    return t.detach().to(torch.bfloat16).contiguous().view(torch.int16).numpy().tobytes()


def write_bf16(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = bf16_bytes(tensors[name].float())
        header[name] = {"dtype": "BF16", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
