"""Trains the demo model: a sentencepiece tokenizer on the synthetic corpus, then a small InternLM2-architecture
model (same tensor names, packed wqkv layout, RMSNorm, SwiGLU, rotate-half RoPE) on the CPU, and writes the HF
on-disk format our engine loads: config.json, model.safetensors (bf16), tokenizer.model, tokenizer_config.json.

Seeded, and single-threaded by default (OpenMP threads fighting over two busy cores made each step 20x slower),
so a rerun with the same data and seed repeats the same arithmetic. Loss is taken on the model's own turns only.

    /usr/bin/python3 scripts/demo_model/train.py --data build/demo-data --out models/demo
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import io
import json
import math
import pathlib
import random
import sys
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402
import safetensors_writer  # noqa: E402

SPECIAL_NAMES = [name for _, name in protocol.SPECIALS]


# ---------------------------------------------------------------------------------------------------- tokenizer
def split_special(text):
    """Splits text into (piece, is_special) runs at the protocol's special tokens."""
    out, i = [], 0
    while i < len(text):
        best = None
        for name in SPECIAL_NAMES:
            j = text.find(name, i)
            if j >= 0 and (best is None or j < best[0]):
                best = (j, name)
        if best is None:
            out.append((text[i:], False))
            break
        if best[0] > i:
            out.append((text[i:best[0]], False))
        out.append((best[1], True))
        i = best[0] + len(best[1])
    return out


# Every whole number below 1000 is one piece (user-defined, so a run of digits splits left to right into the
# longest such pieces wherever it stands): copying a number is then copying one or two distinctive tokens, which
# a small model learns far sooner than copying a run of single digits that repeat.
NUMBER_PIECES = [str(n) for n in range(1000)]


def train_tokenizer(conversations, vocab_size, seed, space_before_words=False):
    """BPE with byte fallback; the six protocol tokens, the newline and the numbers 0-999 are user-defined pieces
    (a newline never merges, so a turn's header and its content tokenize the same apart as together). A space ends
    the piece before it ("of▁" "711", not "▁of" "▁" "711"): the token before a number is then the word it follows,
    not a bare "▁" that every number shares, so a head that copies can tell the numbers apart by what precedes them.

    space_before_words: the space starts the piece after it and no piece crosses a space ("▁maple" "▁l" "add" "er"),
    so a word splits the same whatever follows it. Tried against the held-out look-ups (docs/demo-model.md): it did
    not help and cost a quarter more tokens, so it is off."""
    rng = random.Random(seed)
    sample = rng.sample(conversations, min(len(conversations), 1500))
    sentences = []
    for conv in sample:
        text = "".join(s for s, _ in conv["segments"])
        for piece, special in split_special(text):
            if not special:
                sentences.extend(line for line in piece.split("\n") if line)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=vocab_size, model_type="bpe",
        user_defined_symbols=[raw for raw, _ in protocol.SPECIALS] + ["\n"] + NUMBER_PIECES, byte_fallback=True,
        add_dummy_prefix=False, normalization_rule_name="identity", remove_extra_whitespaces=False,
        split_digits=False, split_by_whitespace=space_before_words, allow_whitespace_only_pieces=True,
        character_coverage=1.0, num_threads=1, max_sentence_length=16384, minloglevel=2,
        treat_whitespace_as_suffix=not space_before_words)
    return model.getvalue()


class Tokenizer:
    def __init__(self, proto):
        self.sp = spm.SentencePieceProcessor(model_proto=proto)
        self.special_ids = {name: self.sp.piece_to_id(raw) for raw, name in protocol.SPECIALS}

    def encode(self, text):
        ids = []
        for piece, special in split_special(text):
            ids.extend([self.special_ids[piece]] if special else self.sp.encode(piece))
        return ids


def tokenizer_config(tok):
    entry = lambda content: {"content": content, "lstrip": False, "normalized": False, "rstrip": False,  # noqa: E731
                             "single_word": False, "special": True}
    added = {"0": entry("<unk>"), "1": entry("<s>"), "2": entry("</s>")}
    for raw, name in protocol.SPECIALS:
        added[str(tok.special_ids[name])] = entry(name)
    return {"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": added,
            "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|action_start|>", "<|action_end|>",
                                          "<|interpreter|>", "<|plugin|>"],
            "bos_token": "<s>", "clean_up_tokenization_spaces": False, "eos_token": "</s>", "pad_token": "</s>",
            "tokenizer_class": "InternLM2Tokenizer", "unk_token": "<unk>"}


# -------------------------------------------------------------------------------------------------------- model
class Config:
    def __init__(self, vocab, hidden, layers, heads, kv_heads, intermediate, rope_theta=10000.0):
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.heads, self.kv_heads, self.intermediate = heads, kv_heads, intermediate
        self.head_dim = hidden // heads
        self.rope_theta = rope_theta

    def hf(self, max_positions):
        return {"architectures": ["InternLM2ForCausalLM"], "model_type": "internlm2", "bias": False,
                "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2, "hidden_act": "silu",
                "hidden_size": self.hidden, "initializer_range": 0.02, "intermediate_size": self.intermediate,
                "max_position_embeddings": max_positions, "num_attention_heads": self.heads,
                "num_hidden_layers": self.layers, "num_key_value_heads": self.kv_heads, "rms_norm_eps": 1e-5,
                "rope_scaling": None, "rope_theta": self.rope_theta, "tie_word_embeddings": False,
                "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": self.vocab}


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, theta):
    """Rotate-half RoPE over the full head dim. x: [B, H, T, D]; pos: [T] absolute positions."""
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = pos.float()[:, None] * inv[None, :]  # [T, D/2]
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Model(torch.nn.Module):
    def __init__(self, c, tied=False):
        super().__init__()
        self.c = c
        g = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)  # noqa: E731
        self.params = torch.nn.ParameterDict()
        p = self.params
        p["tok"] = g(c.vocab, c.hidden)
        qkv_rows = (c.heads + 2 * c.kv_heads) * c.head_dim
        for i in range(c.layers):
            p[f"an{i}"] = torch.nn.Parameter(torch.ones(c.hidden))
            p[f"wqkv{i}"] = g(qkv_rows, c.hidden)
            p[f"wo{i}"] = torch.nn.Parameter(torch.randn(c.hidden, c.heads * c.head_dim) * 0.02 / math.sqrt(2 * c.layers))
            p[f"fn{i}"] = torch.nn.Parameter(torch.ones(c.hidden))
            p[f"w1{i}"] = g(c.intermediate, c.hidden)
            p[f"w3{i}"] = g(c.intermediate, c.hidden)
            p[f"w2{i}"] = torch.nn.Parameter(torch.randn(c.hidden, c.intermediate) * 0.02 / math.sqrt(2 * c.layers))
        p["norm"] = torch.nn.Parameter(torch.ones(c.hidden))
        if not tied:
            p["out"] = g(c.vocab, c.hidden)

    def split_qkv(self, qkv):
        """qkv: [B, T, (nh + 2 nkv) d] in InternLM2's grouping (per KV head: g query heads, key, value)."""
        c = self.c
        b, t, _ = qkv.shape
        grp = c.heads // c.kv_heads
        qkv = qkv.view(b, t, c.kv_heads, grp + 2, c.head_dim)
        q = qkv[:, :, :, :grp].reshape(b, t, c.heads, c.head_dim).transpose(1, 2)  # [B, nh, T, d]
        k = qkv[:, :, :, grp].transpose(1, 2)  # [B, nkv, T, d]
        v = qkv[:, :, :, grp + 1].transpose(1, 2)
        return q, k, v

    def forward(self, prefix, suffix, where, prefix_grad=True):
        """prefix: [P] token ids shared by every row; suffix: [B, S] ids; where: [B, S] bool, the positions whose
        next token is trained. Returns the logits [N, V] of those positions. The prefix is computed once (batch
        1) and its keys and values broadcast to every row; without `prefix_grad` no gradient flows into how the
        prefix is computed (its keys and values are inputs of the step, which saves its backward pass)."""
        c, p = self.c, self.params
        P = prefix.shape[0]
        B, S = suffix.shape
        grp = c.heads // c.kv_heads
        hp = p["tok"][prefix][None]  # [1, P, H]
        hs = p["tok"][suffix]  # [B, S, H]
        pos_p = torch.arange(P)
        pos_s = torch.arange(P, P + S)
        causal_p = torch.full((P, P), float("-inf")).triu(1)
        causal_s = torch.full((S, S), float("-inf")).triu(1)
        scale = 1.0 / math.sqrt(c.head_dim)
        for i in range(c.layers):
            with torch.set_grad_enabled(prefix_grad and torch.is_grad_enabled()):
                xp = rms_norm(hp, p[f"an{i}"])
                qp, kp, vp = self.split_qkv(xp @ p[f"wqkv{i}"].T)
                qp, kp = rope(qp, pos_p, c.rope_theta), rope(kp, pos_p, c.rope_theta)
                kp, vp = kp.repeat_interleave(grp, 1), vp.repeat_interleave(grp, 1)  # [1, nh, P, d]
                ap = torch.softmax(qp @ kp.transpose(-1, -2) * scale + causal_p, -1) @ vp  # [1, nh, P, d]
                hp = hp + ap.transpose(1, 2).reshape(1, P, -1) @ p[f"wo{i}"].T
                x = rms_norm(hp, p[f"fn{i}"])
                hp = hp + (F.silu(x @ p[f"w1{i}"].T) * (x @ p[f"w3{i}"].T)) @ p[f"w2{i}"].T
            xs = rms_norm(hs, p[f"an{i}"])
            qs, ks, vs = self.split_qkv(xs @ p[f"wqkv{i}"].T)
            qs, ks = rope(qs, pos_s, c.rope_theta), rope(ks, pos_s, c.rope_theta)
            ks, vs = ks.repeat_interleave(grp, 1), vs.repeat_interleave(grp, 1)  # [B, nh, S, d]
            # Debian's torch has no fast batched matmul: the prefix part runs as one 2-D product per head
            # ([B*S, d] x [d, P]), the suffix's own part as a batched product of small matrices.
            qs_h = qs.transpose(0, 1).reshape(c.heads, B * S, c.head_dim)  # [nh, B*S, d]
            s_pre = torch.stack([q @ k.T for q, k in zip(qs_h.unbind(0), kp[0].unbind(0))]) * scale  # [nh, B*S, P]
            s_own = (qs.reshape(B * c.heads, S, -1).bmm(ks.reshape(B * c.heads, S, -1).transpose(1, 2).contiguous())
                     .view(B, c.heads, S, S) * scale + causal_s)  # [B, nh, S, S]
            s_own = s_own.transpose(0, 1).reshape(c.heads, B * S, S)  # [nh, B*S, S]
            w = torch.softmax(torch.cat([s_pre, s_own], -1), -1)
            w_pre, w_own = w[..., :P], w[..., P:]
            o_pre = torch.stack([w_ @ v for w_, v in zip(w_pre.unbind(0), vp[0].unbind(0))])  # [nh, B*S, d]
            w_own = w_own.reshape(c.heads, B, S, S).transpose(0, 1).reshape(B * c.heads, S, S)
            o_own = w_own.contiguous().bmm(vs.reshape(B * c.heads, S, -1)).view(B, c.heads, S, -1)
            as_ = o_pre.view(c.heads, B, S, -1).transpose(0, 1) + o_own  # [B, nh, S, d]
            hs = hs + as_.transpose(1, 2).reshape(B, S, -1) @ p[f"wo{i}"].T
            x = rms_norm(hs, p[f"fn{i}"])
            hs = hs + (F.silu(x @ p[f"w1{i}"].T) * (x @ p[f"w3{i}"].T)) @ p[f"w2{i}"].T
        return rms_norm(hs[where], p["norm"]) @ self.output_weight().T

    def output_weight(self):
        """[V, H]: the output head, or the embeddings when they are tied while training."""
        return self.params["out"] if "out" in self.params else self.params["tok"]

    def hf_tensors(self):
        c, p = self.c, self.params
        t = {"model.tok_embeddings.weight": p["tok"], "model.norm.weight": p["norm"],
             "output.weight": self.output_weight()}
        for i in range(c.layers):
            pre = f"model.layers.{i}."
            t[pre + "attention_norm.weight"] = p[f"an{i}"]
            t[pre + "attention.wqkv.weight"] = p[f"wqkv{i}"]
            t[pre + "attention.wo.weight"] = p[f"wo{i}"]
            t[pre + "ffn_norm.weight"] = p[f"fn{i}"]
            t[pre + "feed_forward.w1.weight"] = p[f"w1{i}"]
            t[pre + "feed_forward.w2.weight"] = p[f"w2{i}"]
            t[pre + "feed_forward.w3.weight"] = p[f"w3{i}"]
        return {k: v.detach() for k, v in t.items()}


# ----------------------------------------------------------------------------------------------------- training
def optimizer_step(model, opt, loss):
    """One AdamW step on `loss`, the gradient's norm clipped to 1."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def induction_batch(rng, pool, rows):
    """Random runs of ordinary pieces (words and numbers), each shown twice: every trained token of the repeat is a
    copy of the token that followed the same token the first time. Returns (ids [rows, 2L], targets [rows, 2L])
    with -100 where nothing is trained."""
    length = rng.randint(8, 48)
    ids = torch.tensor([run + run for run in ([rng.choice(pool) for _ in range(length)] for _ in range(rows))])
    target = torch.full_like(ids, -100)
    target[:, length - 1:-1] = ids[:, length:]
    return ids, target


def encode_conversations(conversations, tok):
    """Each conversation as (ids, trained mask), BOS first; checks that encoding the segments one by one gives the
    same ids as encoding the whole text (what the engine does with a prompt)."""
    out = []
    for n, conv in enumerate(conversations):
        ids, mask = [1], [False]
        for text, trained in conv["segments"]:
            piece = tok.encode(text)
            ids.extend(piece)
            mask.extend([trained] * len(piece))
        if n < 50:
            whole = [1] + tok.encode("".join(s for s, _ in conv["segments"]))
            if whole != ids:
                raise SystemExit("segment-wise and whole-text tokenization differ: fix the tokenizer settings")
        out.append((ids, mask))
    return out


def echo_conversations(conversations, rng):
    """Copy drills built from the training conversations: after the user's turn, an `echo` turn (a role the
    runtime never uses) repeats the task and one of the conversation's tool results. Every trained token of a
    drill is a copy, so the heads that copy numbers digit by digit get a dense signal."""
    out = []
    for conv in conversations:
        segs = conv["segments"]
        user = segs[0][0].rsplit(protocol.IM_START + "user\n", 1)[1][: -len(protocol.IM_END + "\n")]
        results = [text.split("\n", 2)[2][: -len(protocol.IM_END + "\n")] for text, trained in segs
                   if not trained and text.startswith("\n" + protocol.IM_START + "environment")]
        body = user + ("\n" + rng.choice(results) if results else "")
        out.append({"family": "echo", "segments": [(segs[0][0], False), (protocol.IM_START + "echo\n", False),
                                                   (body + protocol.IM_END, True), ("\n", False)]})
    return out


def common_prefix(seqs):
    first = seqs[0][0]
    n = len(first)
    for ids, _ in seqs[1:]:
        m = 0
        while m < n and m < len(ids) and ids[m] == first[m]:
            m += 1
        n = m
    return n


def probe(model, used_prefix, prefix, seqs, digit_ids):
    """Copy ability on held-out conversations with teacher forcing: the share of model turns (thought + call,
    or answer) whose every token is the greedy choice given the true text before it, and the share of
    conversations where all turns are. `seqs`: (ids, mask) of whole conversations sharing `prefix`."""
    P = prefix.shape[0]
    turns = turns_ok = convs_ok = digits = digits_ok = 0
    with torch.no_grad():
        for ids, mask in seqs:
            s = torch.tensor([ids[P:]])
            where = torch.ones_like(s, dtype=torch.bool)
            pred = model(used_prefix, s, where).argmax(-1).tolist()
            m, t = mask[P:], ids[P:]
            ok_all, in_turn, ok = True, False, True
            for j in range(1, len(t)):
                if m[j]:
                    in_turn = True
                    ok = ok and pred[j - 1] == t[j]
                    if t[j] in digit_ids:
                        digits += 1
                        digits_ok += pred[j - 1] == t[j]
                elif in_turn:
                    turns += 1
                    turns_ok += ok
                    ok_all = ok_all and ok
                    in_turn, ok = False, True
            if in_turn:
                turns += 1
                turns_ok += ok
                ok_all = ok_all and ok
            convs_ok += ok_all
    return turns_ok / max(1, turns), convs_ok / max(1, len(seqs)), digits_ok / max(1, digits)


def write_checkpoint(out, proto, tok, cfg, model, stats):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.model").write_bytes(proto)
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(tok), indent=2) + "\n")
    (out / "config.json").write_text(json.dumps(cfg.hf(max_positions=4096), indent=2) + "\n")
    (out / "generation_config.json").write_text(
        json.dumps({"bos_token_id": 1, "eos_token_id": [2, tok.special_ids["<|im_end|>"]], "pad_token_id": 2},
                   indent=2) + "\n")
    safetensors_writer.write_bf16(out / "model.safetensors", model.hf_tensors())
    (out / "training.json").write_text(json.dumps(stats, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by gen_data.py")
    ap.add_argument("--out", required=True, help="checkpoint folder to write")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=384)
    ap.add_argument("--tie", action="store_true",
                    help="share the embeddings and the output head while training (both are still written, as the "
                         "7B's format has them apart): a head that carries a token's embedding then raises that "
                         "token's logit from the start, which is what copying needs")
    ap.add_argument("--echo", action="store_true", help="add one copy drill per conversation (echo_conversations)")
    ap.add_argument("--digit-weight", type=float, default=1.0, help="loss weight of number-piece targets")
    ap.add_argument("--probe", type=int, default=40,
                    help="held-out conversations (eval_conversations.jsonl) to measure copying on")
    ap.add_argument("--probe-every", type=int, default=250, help="steps between copy probes (0: never)")
    ap.add_argument("--steps", type=int, default=1400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--extra-data", action="append", default=[],
                    help="another folder written by gen_data.py whose training conversations join --data's")
    ap.add_argument("--init", help="start from this checkpoint's weights and tokenizer (a second training stage)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="end after this many steps of the --steps schedule (0: run it all)")
    ap.add_argument("--save-every", type=int, default=0, help="also write the checkpoint every N steps")
    ap.add_argument("--induction-steps", type=int, default=0,
                    help="first train this many steps on random token runs shown twice (loss on the repeat only), so "
                         "the heads that copy form before the task data (induction_batch)")
    ap.add_argument("--induction-lr", type=float, default=1e-3,
                    help="learning rate of the induction steps (higher rates delay the copying heads)")
    ap.add_argument("--short-steps", type=int, default=800,
                    help="curriculum: the first N steps see only <s><|im_start|>user\\n before the task, not the "
                         "423-token system prefix, so the heads that copy from the task form on short contexts")
    ap.add_argument("--mix-full", type=int, default=0,
                    help="during the --short-steps, every N-th step still sees the full prompt (0: none), so the "
                         "model never meets the system prefix for the first time late in training")
    ap.add_argument("--no-prefix-grad", action="store_true",
                    help="treat the shared prefix's keys and values as inputs (no backward pass through the 951 "
                         "prefix tokens): a quarter less time per full-prompt step (3.1 s against 4.1 s for one batch of 16 on one thread)")
    ap.add_argument("--space-before-words", action="store_true",
                    help="tokenizer variant: spaces start pieces and no piece crosses a space (train_tokenizer)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    data = pathlib.Path(args.data)
    conversations = [json.loads(line) for folder in [data] + [pathlib.Path(d) for d in args.extra_data]
                     for line in open(folder / "train.jsonl", encoding="utf-8")]
    t0 = time.time()
    if args.init:
        proto = (pathlib.Path(args.init) / "tokenizer.model").read_bytes()
    else:
        proto = train_tokenizer(conversations, args.vocab, args.seed, args.space_before_words)
    tok = Tokenizer(proto)
    if args.echo:
        conversations = conversations + echo_conversations(conversations, random.Random(args.seed + 7))
    seqs = encode_conversations(conversations, tok)
    digit_ids = {tok.sp.piece_to_id(n) for n in NUMBER_PIECES}
    P = common_prefix(seqs)
    prefix = torch.tensor(seqs[0][0][:P])
    tail = [tok.sp.id_to_piece(int(i)) for i in prefix[-3:]]
    if tail != [protocol.SPECIALS[5][0], "user", "\n"]:
        raise SystemExit(f"the shared prefix should end with <|im_start|>user\\n, not {tail}")
    suffixes = [(ids[P:], mask[P:]) for ids, mask in seqs]
    probe_seqs = []
    if args.probe and (data / "eval_conversations.jsonl").exists():
        held = [json.loads(line) for line in open(data / "eval_conversations.jsonl", encoding="utf-8")]
        probe_seqs = [s for s in encode_conversations(held[: args.probe], tok) if s[0][:P] == seqs[0][0][:P]]
    lengths = [len(s) for s, _ in suffixes]
    print(f"tokenizer: {tok.sp.get_piece_size()} pieces ({time.time() - t0:.0f} s); shared prefix {P} tokens; "
          f"suffix tokens mean {np.mean(lengths):.0f}, max {max(lengths)}", flush=True)

    cfg = Config(tok.sp.get_piece_size(), args.hidden, args.layers, args.heads, args.kv_heads, args.intermediate)
    model = Model(cfg, tied=args.tie)
    if args.init:
        import check_checkpoint
        model = check_checkpoint.load_model(pathlib.Path(args.init))
        cfg = model.c
        if args.tie:
            del model.params["out"]
    n_params = sum(v.numel() for v in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters", flush=True)
    decay = [v for k, v in model.params.items() if v.dim() == 2]
    no_decay = [v for k, v in model.params.items() if v.dim() == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 20)
    # Batches of similar lengths (less padding): sort by length, cut into batches, shuffle the batches.
    by_length = sorted(range(len(suffixes)), key=lambda j: (len(suffixes[j][0]), j))
    batches = [by_length[k:k + args.batch] for k in range(0, len(by_length), args.batch)]
    queue = []
    # The last three prefix tokens are "<|im_start|>", "user", "\n": the short prefix keeps them after <s>.
    short_prefix = torch.cat([prefix[:1], prefix[-3:]])
    if args.induction_steps:
        pool = [i for i in range(cfg.vocab) if not (tok.sp.is_control(i) or tok.sp.is_byte(i) or tok.sp.is_unknown(i))
                and i not in tok.special_ids.values() and "\n" not in tok.sp.id_to_piece(i)]
        drill_rng = random.Random(args.seed + 11)
        t0 = time.time()
        for step in range(args.induction_steps):
            lr = args.induction_lr * min(1.0, (step + 1) / 50)
            for group in opt.param_groups:
                group["lr"] = lr
            ids, target = induction_batch(drill_rng, pool, 2 * args.batch)
            where = target >= 0
            loss = F.cross_entropy(model(prefix[:1], ids, where), target[where])
            optimizer_step(model, opt, loss)
            if step % 50 == 0 or step == args.induction_steps - 1:
                print(f"induction step {step:5d}  loss {loss.item():.4f}  {time.time() - t0:.0f} s", flush=True)
    t0 = time.time()
    last = args.steps if args.stop_after <= 0 else min(args.steps, args.stop_after)

    def stats(step_count, seconds, loss_value):
        return {"parameters": n_params, "schedule_steps": args.steps, "steps": step_count, "short_steps": args.short_steps, "mix_full": args.mix_full, "init": args.init,
                "batch": args.batch,
                "lr": args.lr, "train_seconds": round(seconds), "final_loss": round(loss_value, 4),
                "shared_prefix_tokens": P, "conversations": len(conversations), "extra_data": args.extra_data, "seed": args.seed,
                "echo": args.echo, "digit_weight": args.digit_weight, "prefix_grad": not args.no_prefix_grad,
                "threads": args.threads, "torch": torch.__version__}

    for step in range(last):
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for group in opt.param_groups:
            group["lr"] = lr
        if not queue:
            queue = batches[:]
            rng.shuffle(queue)
        batch = [suffixes[j] for j in queue.pop()]
        S = max(len(s) for s, _ in batch)
        ids = torch.full((len(batch), S), 2, dtype=torch.long)
        target = torch.full((len(batch), S), -100, dtype=torch.long)
        for r, (s, m) in enumerate(batch):
            ids[r, : len(s)] = torch.tensor(s)
            # Position t predicts token t+1; the first suffix token is predicted from the prefix's last position,
            # which is never a trained token (the user's turn comes first).
            for t in range(len(s) - 1):
                if m[t + 1]:
                    target[r, t] = s[t + 1]
        where = target >= 0
        short = step < args.short_steps and not (args.mix_full and step % args.mix_full == args.mix_full - 1)
        step_prefix = short_prefix if short else prefix
        logits = model(step_prefix, ids, where, prefix_grad=not args.no_prefix_grad)
        wanted = target[where]
        weight = torch.ones(wanted.shape)
        if args.digit_weight != 1.0:
            weight[torch.isin(wanted, torch.tensor(sorted(digit_ids)))] = args.digit_weight
        loss = (F.cross_entropy(logits, wanted, reduction="none") * weight).sum() / weight.sum()
        optimizer_step(model, opt, loss)
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  lr {lr:.2e}  {time.time() - t0:.0f} s", flush=True)
        if probe_seqs and args.probe_every and ((step + 1) % args.probe_every == 0 or step + 1 == last):
            probe_prefix = prefix if args.mix_full or not short else short_prefix
            turns_ok, convs_ok, digits_ok = probe(model, probe_prefix, prefix, probe_seqs, digit_ids)
            print(f"probe at step {step + 1}: held-out model turns exact {turns_ok:.1%}, "
                  f"conversations exact {convs_ok:.1%}, digits {digits_ok:.1%}", flush=True)
        if args.save_every and (step + 1) % args.save_every == 0 and step + 1 < last:
            write_checkpoint(args.out, proto, tok, cfg, model, stats(step + 1, time.time() - t0, loss.item()))
    train_seconds = time.time() - t0
    write_checkpoint(args.out, proto, tok, cfg, model, stats(last, train_seconds, loss.item()))
    out = args.out

    print(f"wrote {out} ({train_seconds / 60:.1f} min of training)")


if __name__ == "__main__":
    main()
