"""An independent numpy implementation of InternLM2 (HF modeling_internlm2.py semantics), for checking the
engine. It reads a checkpoint directory as the hub ships it (config.json, safetensors, optional sharded index)
and computes logits in float64. Written from the HF model code, not from the engine's C++."""

import json
import os
import struct

import numpy as np


def _read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin : base + end]
        shape = info["shape"]
        dtype = info["dtype"]
        if dtype == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            values = bits.view(np.float32)
        elif dtype == "F16":
            values = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dtype == "F32":
            values = np.frombuffer(raw, dtype="<f4")
        else:
            raise ValueError(f"{path}: unsupported dtype {dtype}")
        tensors[name] = values.astype(np.float64).reshape(shape)
    return tensors


def load_checkpoint(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    index = os.path.join(model_dir, "model.safetensors.index.json")
    tensors = {}
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    for name in files:
        tensors.update(_read_safetensors(os.path.join(model_dir, name)))
    return config, tensors


class RotaryEmbedding:
    """HF InternLM2RotaryEmbedding and its Linear / DynamicNTK variants, including the cos/sin cache that is
    rebuilt only when a longer sequence arrives (max_seq_len_cached)."""

    def __init__(self, config):
        self.dim = config["hidden_size"] // config["num_attention_heads"]
        self.base = float(config.get("rope_theta", 10000.0))
        self.max_position_embeddings = config["max_position_embeddings"]
        scaling = config.get("rope_scaling")
        self.kind = None if scaling is None else scaling["type"]
        self.factor = 1.0 if scaling is None else float(scaling["factor"])
        self._set_cache(self.max_position_embeddings)

    def _inv_freq(self, base):
        return 1.0 / (base ** (np.arange(0, self.dim, 2, dtype=np.float64) / self.dim))

    def _set_cache(self, seq_len):
        self.max_seq_len_cached = seq_len
        base = self.base
        t = np.arange(seq_len, dtype=np.float64)
        if self.kind == "linear":
            t = t / self.factor
        if self.kind == "dynamic" and seq_len > self.max_position_embeddings:
            base = self.base * (
                (self.factor * seq_len / self.max_position_embeddings) - (self.factor - 1)
            ) ** (self.dim / (self.dim - 2))
        freqs = np.outer(t, self._inv_freq(base))
        emb = np.concatenate([freqs, freqs], axis=-1)
        self.cos = np.cos(emb)
        self.sin = np.sin(emb)

    def __call__(self, seq_len):
        if seq_len > self.max_seq_len_cached:
            self._set_cache(seq_len)
        return self.cos[:seq_len], self.sin[:seq_len]


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rms_norm(x, weight, eps):
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return weight * (x / np.sqrt(variance + eps))


def silu(x):
    return x / (1.0 + np.exp(-x))


class InternLM2:
    def __init__(self, model_dir):
        self.config, self.w = load_checkpoint(model_dir)
        c = self.config
        self.hidden = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads") or self.heads
        self.head_dim = self.hidden // self.heads
        self.groups = self.heads // self.kv_heads
        self.layers = c["num_hidden_layers"]
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.output = self.w["model.tok_embeddings.weight"] if c.get("tie_word_embeddings") else self.w["output.weight"]
        self.reset()

    def reset(self):
        """Forgets the KV cache (a new sequence); the rotary cache persists like HF's module state would for
        one generate call, so it is rebuilt too."""
        self.past_k = [None] * self.layers
        self.past_v = [None] * self.layers
        self.rotary = RotaryEmbedding(self.config)

    def _attention(self, layer, x, positions):
        p = f"model.layers.{layer}.attention."
        n = x.shape[0]
        qkv = x @ self.w[p + "wqkv.weight"].T
        # HF: rearrange(qkv, "b q (h gs d) -> b q h gs d", gs=2 + groups, d=head_dim)
        qkv = qkv.reshape(n, self.kv_heads, self.groups + 2, self.head_dim)
        q = qkv[:, :, : self.groups, :].reshape(n, self.heads, self.head_dim)
        k = qkv[:, :, -2, :]
        v = qkv[:, :, -1, :]
        past = 0 if self.past_k[layer] is None else self.past_k[layer].shape[0]
        cos, sin = self.rotary(past + n)
        cos = cos[positions][:, None, :]
        sin = sin[positions][:, None, :]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.past_k[layer] is not None:
            k = np.concatenate([self.past_k[layer], k], axis=0)
            v = np.concatenate([self.past_v[layer], v], axis=0)
        self.past_k[layer], self.past_v[layer] = k, v
        total = k.shape[0]
        # repeat_kv: query head h uses key/value head h // groups.
        k_rep = np.repeat(k, self.groups, axis=1)  # [total, heads, d]
        v_rep = np.repeat(v, self.groups, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k_rep) / np.sqrt(self.head_dim)
        mask = np.arange(total)[None, :] > (past + np.arange(n))[:, None]
        scores = np.where(mask[None, :, :], -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs = probs / probs.sum(axis=-1, keepdims=True)
        out = np.einsum("hqk,khd->qhd", probs, v_rep).reshape(n, self.heads * self.head_dim)
        return out @ self.w[p + "wo.weight"].T

    def forward(self, tokens):
        """Appends tokens to the current sequence; returns their logits [len(tokens), vocab]."""
        tokens = np.asarray(tokens, dtype=np.int64)
        past = 0 if self.past_k[0] is None else self.past_k[0].shape[0]
        positions = past + np.arange(len(tokens))
        x = self.w["model.tok_embeddings.weight"][tokens]
        for layer in range(self.layers):
            p = f"model.layers.{layer}."
            h = rms_norm(x, self.w[p + "attention_norm.weight"], self.eps)
            x = x + self._attention(layer, h, positions)
            h = rms_norm(x, self.w[p + "ffn_norm.weight"], self.eps)
            f = silu(h @ self.w[p + "feed_forward.w1.weight"].T) * (h @ self.w[p + "feed_forward.w3.weight"].T)
            x = x + f @ self.w[p + "feed_forward.w2.weight"].T
        x = rms_norm(x, self.w["model.norm.weight"], self.eps)
        return x @ self.output.T

    def greedy(self, prompt, steps):
        """HF generate(do_sample=False) with the KV cache: prompt in one pass, then one token per step.
        Returns the tokens and the smallest top-1/top-2 logit margin seen."""
        self.reset()
        logits = self.forward(prompt)[-1]
        out, margin = [], np.inf
        for step in range(steps):
            top2 = np.sort(logits)[-2:]
            margin = min(margin, float(top2[1] - top2[0]))
            token = int(np.argmax(logits))
            out.append(token)
            if step + 1 < steps:
                logits = self.forward([token])[-1]
        return out, margin
