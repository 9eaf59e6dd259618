"""Checks a checkpoint written by train.py against our engine: the engine's tokenizer gives the same ids as the
training tokenizer for a rendered conversation, and the engine's logits (`agentrt logits`) match the training
model's forward pass on the same bf16 weights (this catches a wrong wqkv packing, RoPE or norm).

    /usr/bin/python3 scripts/demo_model/check_checkpoint.py --agentrt build/bin/agentrt --model models/demo
Exit status 0 when both agree."""
import argparse
import json
import pathlib
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402
import train  # noqa: E402


def read_safetensors(path):
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "BF16", name
        a, b = info["data_offsets"]
        raw = np.frombuffer(data[8 + n + a:8 + n + b], dtype=np.uint16).astype(np.uint32) << 16
        out[name] = torch.from_numpy(raw.view(np.float32).reshape(info["shape"]).copy())
    return out


def load_model(model_dir):
    cfg = json.loads((model_dir / "config.json").read_text())
    c = train.Config(cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
                     cfg["num_key_value_heads"], cfg["intermediate_size"], cfg["rope_theta"])
    model = train.Model(c)
    tensors = read_safetensors(model_dir / "model.safetensors")
    with torch.no_grad():
        for name, param in model.hf_tensors().items():
            param.copy_(tensors[name])
    # hf_tensors() returns detached views: copy_ above wrote through them into the parameters.
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agentrt", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    model_dir = pathlib.Path(args.model)

    tools = [{"name": "calculator", "description": "Evaluates an expression.",
              "parameters": {"type": "object", "properties": {"expression": {"type": "string"}},
                             "required": ["expression"]}}]
    # Long numbers, a decimal part and a URL with a port: the number pieces must split the same in both.
    segs = protocol.render_conversation(tools, "What is 26679 * 12 - 1723.5? Ask http://127.0.0.1:21788/quote.", [
        ("I will compute 26679 * 12 - 1723.5 with the calculator.", "calculator",
         {"expression": "26679 * 12 - 1723.5"}, "318424.5", True)], "26679 * 12 - 1723.5 = 318424.5.")
    text = "".join(s for s, _ in segs)
    tok = train.Tokenizer((model_dir / "tokenizer.model").read_bytes())
    ids = [1] + tok.encode(text)

    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "logits.bin"
        subprocess.run([args.agentrt, "logits", "--model", str(model_dir), "--text", text, "--out", str(out),
                        "--threads", "1"], check=True, capture_output=True)
        engine = np.fromfile(out, dtype=np.float32)
    vocab = json.loads((model_dir / "config.json").read_text())["vocab_size"]
    if engine.size != len(ids) * vocab:
        print(f"token counts differ: engine {engine.size // vocab}, training tokenizer {len(ids)}")
        return 1
    engine = engine.reshape(len(ids), vocab)
    model = load_model(model_dir)
    with torch.no_grad():
        ref = model(torch.tensor(ids[:1]), torch.tensor([ids[1:]]), torch.ones(1, len(ids) - 1, dtype=torch.bool))
    ref = ref.numpy()
    diff = np.abs(engine[1:] - ref).max()
    same_argmax = (engine[1:].argmax(-1) == ref.argmax(-1)).mean()
    print(f"{len(ids)} tokens; max |logit difference| {diff:.4f}; same top token at {same_argmax:.1%} of positions")
    return 0 if diff < 0.05 * max(1.0, np.abs(ref).max()) and same_argmax > 0.98 else 1


if __name__ == "__main__":
    sys.exit(main())
