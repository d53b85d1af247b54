#!/usr/bin/python3
"""Golden cases for Qwen3 and Gemma 3, in the layout of tests/fixtures/golden/llama-tiny.

Plain torch autograd in float32 (Debian's torch 1.13: `apt-get install python3-torch`; no
transformers, no PEFT). The model math is written here from the published definitions
(transformers' modeling_qwen3 / modeling_gemma3, eager attention), so it is independent of the
project's TypeScript. Usage: /usr/bin/python3 scripts/golden/make_golden.py [out_dir]
(default tests/fixtures/golden). Writes <out_dir>/qwen3-tiny and <out_dir>/gemma3-tiny; with --dora,
only <out_dir>/qwen3-tiny-dora (DoRA, PEFT's use_dora, on the decoder linears) and
<out_dir>/qwen3-untied-dora-head (DoRA on the decoder linears and an untied lm_head); with --full, only
<out_dir>/gemma3-tiny-full, <out_dir>/qwen3-untied-full and <out_dir>/qwen2-tiny-full (full
finetuning: `<name>.grad` and `<name>.after_adamw_1` of every base weight, Qwen2's q/k/v biases
included; torch.optim.AdamW over every parameter, so weight decay applies to biases and norms too).

Real shapes (opt-in, never in the suite): /usr/bin/python3 scripts/golden/make_golden.py --config
tests/fixtures/configs/gemma-3-270m.json --name gemma3-270m --T 8 /tmp/golden-real writes a case of
that config with random weights rounded to bf16 (stored F32), B = 2; Qwen2 configs (q/k/v biases,
no q/k norms) work too. Check it with `npm run cli -- golden <dir>/<name> --engine gpu --gpu-limits default`.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from safetensors_writer import write_safetensors

B, T = 2, 12
R, ALPHA = 4, 8
ADAMW = {"lr": 0.01, "weight_decay": 0.01, "betas": [0.9, 0.999], "eps": 1e-8}
LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

QWEN3 = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 96, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 16, "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0,
    "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2,
    "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
}

# Qwen2 (Qwen2.5): q/k/v biases (its attention hard-codes bias=True), no q/k norms, head_dim = hidden / heads, tied head.
QWEN2 = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 96, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 8, "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "rope_scaling": None, "attention_dropout": 0.0,
    "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2,
    "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
}

GEMMA3 = {
    "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "vocab_size": 96, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 1,
    "head_dim": 16, "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 64,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "rope_scaling": None,
    "query_pre_attn_scalar": 24, "sliding_window": 4,
    "layer_types": ["sliding_attention", "full_attention", "sliding_attention"],
    "attn_logit_softcapping": None, "final_logit_softcapping": None, "attention_bias": False,
    "attention_dropout": 0.0, "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": 1,
    "pad_token_id": 0, "torch_dtype": "float32",
}


def is_gemma(cfg):
    return cfg["model_type"] in ("gemma3_text", "gemma2")


def has_qk_norm(cfg):
    return cfg["model_type"] in ("qwen3", "gemma3_text")


def has_qkv_bias(cfg):
    return cfg["model_type"] == "qwen2"


def rms_norm(x, w, eps, plus_one):
    """Llama/Qwen3RMSNorm (w * normed) or Gemma3RMSNorm (normed * (1 + w)), in float32."""
    normed = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return normed * (1.0 + w) if plus_one else w * normed


def rope_tables(theta, dim, t):
    """Default RoPE (no scaling), transformers' float32 computation: cos, sin (T, dim)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    freqs = torch.arange(t).float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def layer_window(cfg, l):
    if is_gemma(cfg):
        return cfg["sliding_window"] if cfg["layer_types"][l] == "sliding_attention" else None
    return cfg["sliding_window"] if cfg.get("use_sliding_window") else None


def linear(x, w, lora, path, bias=None):
    """PEFT LoRA Linear: x W^T (+ b) + (x A^T) B^T * alpha / r (dropout 0)."""
    y = x @ w.t()
    if bias is not None:
        y = y + bias
    if path in lora and len(lora[path]) == 3:
        return y + dora_addition(x, w, lora[path])
    if path in lora:
        a, b = lora[path]
        y = y + (x @ a.t()) @ b.t() * (ALPHA / R)
    return y


def dora_addition(x, w, abm):
    """PEFT's DoraLinearLayer.forward (dropout 0): (m / ||W + s B A||_row - 1) x W^T + m / norm * s (x A^T) B^T.
    The norm is computed from a detached B A and detached itself (peft/tuners/lora/dora.py)."""
    a, b, mag = abm
    s = ALPHA / R
    norm = torch.linalg.norm(w + s * (b @ a).detach(), dim=1).detach()
    c = (mag / norm).view(1, -1)
    return (c - 1) * (x @ w.t()) + c * ((x @ a.t()) @ b.t()) * s


def attention(cfg, wts, lora, l, x, cos, sin):
    """Qwen3Attention / Gemma3Attention with eager_attention_forward. x (B, T, C) -> (B, T, C)."""
    H, KV, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    gemma = is_gemma(cfg)
    p = f"model.layers.{l}.self_attn"
    eps = cfg["rms_norm_eps"]
    q = linear(x, wts[f"{p}.q_proj.weight"], lora, f"{p}.q_proj", wts.get(f"{p}.q_proj.bias")).view(B, T, H, D)
    k = linear(x, wts[f"{p}.k_proj.weight"], lora, f"{p}.k_proj", wts.get(f"{p}.k_proj.bias")).view(B, T, KV, D)
    v = linear(x, wts[f"{p}.v_proj.weight"], lora, f"{p}.v_proj", wts.get(f"{p}.v_proj.bias")).view(B, T, KV, D)
    if has_qk_norm(cfg):
        q = rms_norm(q, wts[f"{p}.q_norm.weight"], eps, gemma)
        k = rms_norm(k, wts[f"{p}.k_norm.weight"], eps, gemma)
    q = q.transpose(1, 2)  # (B, H, T, D)
    k = k.transpose(1, 2)
    v = v.transpose(1, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k = k.repeat_interleave(H // KV, dim=1)  # repeat_kv: each KV head serves H/KV consecutive heads
    v = v.repeat_interleave(H // KV, dim=1)
    scaling = cfg["query_pre_attn_scalar"] ** -0.5 if gemma else D ** -0.5
    scores = (q @ k.transpose(2, 3)) * scaling
    cap = cfg.get("attn_logit_softcapping")
    if cap:
        scores = torch.tanh(scores / cap) * cap
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i
    w = layer_window(cfg, l)
    if w is not None:
        allowed = allowed & (j > i - w)
    scores = scores.masked_fill(~allowed, float("-inf"))
    probs = F.softmax(scores, dim=-1, dtype=torch.float32)
    y = (probs @ v).transpose(1, 2).reshape(B, T, H * D)
    return linear(y, wts[f"{p}.o_proj.weight"], lora, f"{p}.o_proj")


def mlp(cfg, wts, lora, l, x):
    p = f"model.layers.{l}.mlp"
    g = linear(x, wts[f"{p}.gate_proj.weight"], lora, f"{p}.gate_proj")
    u = linear(x, wts[f"{p}.up_proj.weight"], lora, f"{p}.up_proj")
    act = F.gelu(g, approximate="tanh") if is_gemma(cfg) else F.silu(g)
    return linear(act * u, wts[f"{p}.down_proj.weight"], lora, f"{p}.down_proj")


def model_forward(cfg, wts, lora, tokens):
    """Logits (B, T, V) of Qwen3ForCausalLM / Gemma3ForCausalLM."""
    gemma = is_gemma(cfg)
    eps = cfg["rms_norm_eps"]
    D = cfg["head_dim"]
    embed = wts["model.embed_tokens.weight"]
    x = F.embedding(tokens, embed)
    if gemma:  # Gemma3TextScaledWordEmbedding: embed_scale = torch.tensor(hidden ** 0.5) in the weights' dtype
        # (the checkpoint's: a bf16 checkpoint's scale is the bf16 value, though the math here runs in f32)
        dtype = torch.bfloat16 if cfg.get("torch_dtype") == "bfloat16" else embed.dtype
        x = x * torch.tensor(cfg["hidden_size"] ** 0.5, dtype=dtype).to(embed.dtype)
    global_rope = rope_tables(cfg["rope_theta"], D, T)
    local_rope = rope_tables(cfg["rope_local_base_freq"], D, T) if gemma else global_rope
    for l in range(cfg["num_hidden_layers"]):
        n = lambda name: wts[f"model.layers.{l}.{name}.weight"]
        cos, sin = local_rope if layer_window(cfg, l) is not None else global_rope
        if gemma:
            h = attention(cfg, wts, lora, l, rms_norm(x, n("input_layernorm"), eps, True), cos, sin)
            x = x + rms_norm(h, n("post_attention_layernorm"), eps, True)
            h = mlp(cfg, wts, lora, l, rms_norm(x, n("pre_feedforward_layernorm"), eps, True))
            x = x + rms_norm(h, n("post_feedforward_layernorm"), eps, True)
        else:
            x = x + attention(cfg, wts, lora, l, rms_norm(x, n("input_layernorm"), eps, False), cos, sin)
            x = x + mlp(cfg, wts, lora, l, rms_norm(x, n("post_attention_layernorm"), eps, False))
    x = rms_norm(x, wts["model.norm.weight"], eps, gemma)
    head = embed if cfg["tie_word_embeddings"] else wts["lm_head.weight"]  # tied: the unscaled table
    logits = linear(x, head, lora, "lm_head")
    cap = cfg.get("final_logit_softcapping")
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def make_weights(cfg, gen):
    """Random base weights under Hugging Face names (no lm_head.weight when tied)."""
    C, Fh, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    gemma = is_gemma(cfg)
    rnd = lambda *shape, s: torch.randn(*shape, generator=gen) * s
    if cfg.get("_bf16_weights"):  # real shapes: a trained model's scale (initializer_range 0.02), bf16 values
        plain = rnd
        rnd = lambda *shape, s: plain(*shape, s=min(s, 0.02) if len(shape) > 1 else s).to(torch.bfloat16).float()
    norm = lambda n: rnd(n, s=0.1) + (0.0 if gemma else 1.0)  # Gemma stores w - 1
    wts = {"model.embed_tokens.weight": rnd(V, C, s=0.5)}
    norms = ["input_layernorm", "post_attention_layernorm"]
    if gemma:
        norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        for name in norms:
            wts[f"{p}.{name}.weight"] = norm(C)
        if has_qk_norm(cfg):
            wts[f"{p}.self_attn.q_norm.weight"] = norm(D)
            wts[f"{p}.self_attn.k_norm.weight"] = norm(D)
        if has_qkv_bias(cfg):
            for m, o in (("q_proj", H * D), ("k_proj", KV * D), ("v_proj", KV * D)):
                wts[f"{p}.self_attn.{m}.bias"] = rnd(o, s=0.2)
        for name, (o, i) in module_shapes(cfg).items():
            if name != "lm_head":
                wts[f"{p}.{'mlp' if name in ('gate_proj', 'up_proj', 'down_proj') else 'self_attn'}.{name}.weight"] = rnd(o, i, s=1.2 / math.sqrt(i))
    wts["model.norm.weight"] = norm(C)
    if not cfg["tie_word_embeddings"]:
        wts["lm_head.weight"] = rnd(V, C, s=1.2 / math.sqrt(C))
    return wts


def module_shapes(cfg):
    C, Fh, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    q, kv = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    return {"q_proj": (q, C), "k_proj": (kv, C), "v_proj": (kv, C), "o_proj": (C, q),
            "gate_proj": (Fh, C), "up_proj": (Fh, C), "down_proj": (C, Fh), "lm_head": (V, C)}


def lora_paths(cfg):
    """Module paths in PEFT's state-dict order: layer by layer, then lm_head."""
    paths = []
    for l in range(cfg["num_hidden_layers"]):
        for m in LINEARS:
            paths.append((f"model.layers.{l}.{'mlp' if m in ('gate_proj', 'up_proj', 'down_proj') else 'self_attn'}.{m}", m))
    paths.append(("lm_head", "lm_head"))
    return paths


def make_lora(cfg, gen, dora_weights=None, dora_head=False):
    """A = Kaiming-uniform-like (r, in), B non-zero (out, r), so the LoRA path matters. With
    dora_weights (the base weights): DoRA on the decoder linears (and on lm_head with dora_head,
    else no lm_head), each with a magnitude m = ||W||_row (PEFT's initialisation) times
    (1 + 0.05 noise), so m / norm differs from 1."""
    shapes = module_shapes(cfg)
    lora = {}
    for path, m in lora_paths(cfg):
        if dora_weights is not None and m == "lm_head" and not dora_head:
            continue
        o, i = shapes[m]
        bound = 1 / math.sqrt(i)
        a = (torch.rand(R, i, generator=gen) * 2 - 1) * bound
        b = torch.randn(o, R, generator=gen) * (0.01 if cfg.get("_bf16_weights") else 0.1)
        lora[path] = (a.requires_grad_(), b.requires_grad_())
        if dora_weights is not None:
            w = dora_weights["model.embed_tokens.weight" if m == "lm_head" and cfg["tie_word_embeddings"] else f"{path}.weight"]
            mag = torch.linalg.norm(w, dim=1) * (1 + 0.05 * torch.randn(o, generator=gen))
            lora[path] = (a, b, mag.requires_grad_())
    return lora


def loss_of(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="mean")


def key(path, which):
    if which == "M":  # PEFT >= 0.10 saves lora_magnitude_vector.<adapter>.weight without ".weight"
        return f"base_model.model.{path}.lora_magnitude_vector"
    return f"base_model.model.{path}.lora_{which}.weight"


def named(lora):
    """(key, tensor) of every adapter tensor: A, B and DoRA's magnitude M."""
    return [(key(p, w), t) for p, ts in lora.items() for w, t in zip("ABM", ts)]


def make_case(name, cfg, seed, out_dir, dora=False, dora_head=False):
    gen = torch.Generator().manual_seed(seed)
    wts = make_weights(cfg, gen)
    lora = make_lora(cfg, gen, wts if dora else None, dora_head)
    V = cfg["vocab_size"]
    tokens = torch.randint(0, V, (B, T), generator=gen)
    targets = torch.randint(0, V, (B, T), generator=gen)
    targets[0, :3] = -100  # a masked prompt
    targets[1, -2:] = -100  # padding

    logits = model_forward(cfg, wts, lora, tokens)
    loss = loss_of(logits, targets)
    loss.backward()
    params = [t for ab in lora.values() for t in ab]
    grads = {k: t.grad.detach().clone() for k, t in named(lora)}
    opt = torch.optim.AdamW(params, lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    initial = {k: t.detach().clone() for k, t in named(lora)}
    opt.step()
    with torch.no_grad():
        loss2 = loss_of(model_forward(cfg, wts, lora, tokens), targets)

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), wts, {"format": "pt"})
    write_safetensors(os.path.join(d, "adapter_model.safetensors"), initial, {"format": "pt"})
    adapter_config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": R, "lora_alpha": ALPHA, "lora_dropout": 0.0,
        "bias": "none", "fan_in_fan_out": False, "use_rslora": False, "base_model_name_or_path": f"golden-{name}",
        "target_modules": sorted(LINEARS + ([] if dora and not dora_head else ["lm_head"])),
    }
    if dora:
        adapter_config["use_dora"] = True
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump(adapter_config, f, indent=2)
    expected = {"tokens": tokens.float(), "targets": targets.float(), "logits": logits.detach(),
                "loss": loss.detach().reshape(1), "loss_after_adamw_1": loss2.reshape(1)}
    for k, g in grads.items():
        expected[f"{k}.grad"] = g
    for k, t in named(lora):
        expected[f"{k}.after_adamw_1"] = t.detach()
    write_safetensors(os.path.join(d, "expected.safetensors"), expected)
    summary = {
        "variant": cfg["model_type"], "seed": seed, "loss": loss.item(), "loss_after_adamw_1": loss2.item(),
        "adamw": ADAMW, "lora_scaling": ALPHA / R, "loss_reduction": "mean over targets != -100",
        "targets_are_aligned": "targets[b,t] is the label for position t (already shifted)",
        "torch": torch.__version__, "script": "scripts/golden/make_golden.py",
    }
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"{name}: loss {loss.item():.6f} -> {loss2.item():.6f} after one AdamW step ({d})")


def make_full_case(name, cfg, seed, out_dir):
    """Full finetuning: every base weight trainable; grads of every parameter and one AdamW step."""
    gen = torch.Generator().manual_seed(seed)
    wts = make_weights(cfg, gen)
    V = cfg["vocab_size"]
    tokens = torch.randint(0, V, (B, T), generator=gen)
    targets = torch.randint(0, V, (B, T), generator=gen)
    targets[0, :3] = -100
    targets[1, -2:] = -100
    initial = {k: t.clone() for k, t in wts.items()}
    for t in wts.values():
        t.requires_grad_()
    logits = model_forward(cfg, wts, {}, tokens)
    loss = loss_of(logits, targets)
    loss.backward()
    opt = torch.optim.AdamW(list(wts.values()), lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    grads = {k: t.grad.detach().clone() for k, t in wts.items()}
    opt.step()
    with torch.no_grad():
        loss2 = loss_of(model_forward(cfg, wts, {}, tokens), targets)
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), initial, {"format": "pt"})
    expected = {"tokens": tokens.float(), "targets": targets.float(), "logits": logits.detach(),
                "loss": loss.detach().reshape(1), "loss_after_adamw_1": loss2.reshape(1)}
    for k, t in wts.items():
        expected[f"{k}.grad"] = grads[k]
        expected[f"{k}.after_adamw_1"] = t.detach()
    write_safetensors(os.path.join(d, "expected.safetensors"), expected)
    summary = {
        "variant": cfg["model_type"], "method": "full", "seed": seed, "loss": loss.item(), "loss_after_adamw_1": loss2.item(),
        "adamw": ADAMW, "loss_reduction": "mean over targets != -100", "parameters": list(wts.keys()),
        "targets_are_aligned": "targets[b,t] is the label for position t (already shifted)",
        "torch": torch.__version__, "script": "scripts/golden/make_golden.py --full",
    }
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"{name}: loss {loss.item():.6f} -> {loss2.item():.6f} after one AdamW step of every weight ({d})")


def real_case(argv):
    """--config <config.json> --name <case> [--T n] <out_dir>: a golden case of a real model's shape."""
    global B, T
    args = dict(zip(argv[0::2], argv[1::2]))
    out_dir = argv[-1]
    with open(args["--config"]) as f:
        cfg = json.load(f)
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    if "layer_types" not in cfg and is_gemma(cfg):
        pattern = cfg.get("sliding_window_pattern", 6)
        cfg["layer_types"] = ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(cfg["num_hidden_layers"])]
    cfg.setdefault("tie_word_embeddings", is_gemma(cfg))
    cfg.setdefault("query_pre_attn_scalar", cfg["head_dim"])
    B, T = 2, int(args.get("--T", "8"))
    cfg["_bf16_weights"] = True
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    make_case(args["--name"], cfg, 7, out_dir)
    path = os.path.join(out_dir, args["--name"], "config.json")
    with open(path) as f:
        written = json.load(f)
    written.pop("_bf16_weights", None)
    with open(path, "w") as f:
        json.dump(written, f, indent=2)


def main():
    if "--config" in sys.argv:
        real_case(sys.argv[1:])
        return
    args = [a for a in sys.argv[1:] if a not in ("--dora", "--full")]
    out_dir = args[0] if args else "tests/fixtures/golden"
    torch.set_num_threads(1)  # deterministic reductions
    if "--full" in sys.argv:  # only the full-finetuning cases: Gemma 3 (tied, sandwich norms), Qwen3 with an untied head, Qwen2 (biases)
        make_full_case("gemma3-tiny-full", GEMMA3, 5, out_dir)
        make_full_case("qwen3-untied-full", {**QWEN3, "tie_word_embeddings": False}, 6, out_dir)
        make_full_case("qwen2-tiny-full", QWEN2, 7, out_dir)
        return
    if "--dora" in sys.argv:  # only the DoRA cases (PEFT use_dora), so the others' files stay as they are
        make_case("qwen3-tiny-dora", QWEN3, 5, out_dir, dora=True)
        # DoRA on lm_head too, with an untied head (its own weight, V rows)
        make_case("qwen3-untied-dora-head", {**QWEN3, "tie_word_embeddings": False}, 8, out_dir, dora=True, dora_head=True)
        return
    make_case("qwen3-tiny", QWEN3, 3, out_dir)
    make_case("gemma3-tiny", GEMMA3, 4, out_dir)


if __name__ == "__main__":
    main()
