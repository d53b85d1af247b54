"""The Hugging Face side of the hf-check (README.md): load model folders with transformers (and
PEFT adapters with peft), run fixed token ids, and write the logits, what the loaders reported,
and the tokenizer's ids for test texts.

    python hf_logits.py <jobs.json>      (or "-" to read the jobs from stdin)

jobs.json: {"results": "<file>", "jobs": [{"name": str, "model": dir, "adapter": dir | null,
"sequences": [[id, ...], ...], "logits": "<file>", "texts": [str, ...], "chat": [messages]}]};
a job with "tokenizer": dir instead of "model" loads only AutoTokenizer from that folder.
For each job the logits of every sequence, concatenated (T1 + T2 ..., vocab), go to "logits" as
f32 little-endian; "results" gets one JSON object per job: logits shapes, the loading info of
from_pretrained (missing / unexpected / mismatched keys), for an adapter the keys of its file
against the keys PEFT expects (and whether the loaded values are the file's), every warning
transformers, peft or Python emitted, and AutoTokenizer's ids for "texts" (when the folder has a
tokenizer). One failing job does not stop the others: its "error" says what went wrong.
"""

import json
import logging
import os
import platform
import sys
import traceback
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local folders only: never reach for the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

try:
    import peft
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
except ImportError:  # adapters then fail with a clear message, everything else still runs
    peft = None


class Collect(logging.Handler):
    """Every warning the libraries log, kept for the job's report."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def dtype_kwargs():
    """float32 weights: `dtype` since transformers 4.56, `torch_dtype` before."""
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": torch.float32} if (major, minor) >= (4, 56) else {"torch_dtype": torch.float32}


def plain(v):
    """Loading info as JSON: sets to sorted lists, tuples to lists."""
    if isinstance(v, (set, list, tuple)):
        return sorted((plain(x) for x in v), key=str) if isinstance(v, set) else [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v if isinstance(v, (str, int, float, bool, type(None))) else str(v)


def adapter_keys(model, adapter_dir):
    """The adapter file's tensors against PEFT's: absent from the file, unused, or loaded with other values."""
    from safetensors import safe_open

    # save_embedding_layers=False: only the adapter's own tensors (with an lm_head LoRA PEFT would
    # otherwise add the base head's weight, which save_pretrained writes but loading never needs).
    expected = {k: v.detach().float() for k, v in get_peft_model_state_dict(model, save_embedding_layers=False).items()}
    path = os.path.join(adapter_dir, "adapter_model.safetensors")
    with safe_open(path, framework="pt") as f:
        stored = {k: f.get_tensor(k).float() for k in f.keys()}
    return {
        "file_keys": len(stored),
        "missing_in_file": sorted(set(expected) - set(stored)),
        "unused_in_file": sorted(set(stored) - set(expected)),
        "value_differs": sorted(k for k in set(expected) & set(stored) if not torch.equal(expected[k], stored[k])),
    }


def run_model(job, out):
    """Load the model (and adapter), run the sequences, write the logits."""
    model, info = AutoModelForCausalLM.from_pretrained(job["model"], output_loading_info=True, **dtype_kwargs())
    out["loading"] = plain(info)
    out["class"] = type(model).__name__
    if job.get("adapter"):
        if peft is None:
            raise RuntimeError("peft is not installed in this Python (pip install peft)")
        model = PeftModel.from_pretrained(model, job["adapter"])
        out["adapter"] = adapter_keys(model, job["adapter"])
    model.eval()
    rows = []
    with torch.inference_mode():
        for seq in job["sequences"]:
            logits = model(input_ids=torch.tensor([seq], dtype=torch.long), use_cache=False).logits[0]
            rows.append(logits.float().contiguous())
    out["shapes"] = [list(r.shape) for r in rows]
    torch.cat(rows).numpy().astype("<f4").tofile(job["logits"])


def run_job(job, handler):
    out = {"name": job["name"]}
    handler.messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if job.get("model"):
                run_model(job, out)
            folder = job.get("tokenizer") or job.get("model")
            if job.get("texts") is not None and os.path.exists(os.path.join(folder, "tokenizer.json")):
                tok = AutoTokenizer.from_pretrained(folder)
                out["tokenizer_class"] = type(tok).__name__
                out["tokens"] = [tok(t, add_special_tokens=False)["input_ids"] for t in job["texts"]]
                out["tokens_special"] = [tok(t, add_special_tokens=True)["input_ids"] for t in job["texts"]]
                if job.get("chat") and tok.chat_template:
                    out["chat"] = tok.apply_chat_template(job["chat"], tokenize=False, add_generation_prompt=True)
        except Exception as e:  # reported per job
            out["error"] = f"{type(e).__name__}: {e}"
            out["traceback"] = traceback.format_exc()
    out["warnings"] = handler.messages + [f"{w.category.__name__}: {w.message}" for w in caught]
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.load(sys.stdin if sys.argv[1] == "-" else open(sys.argv[1], encoding="utf-8"))
    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic reductions; the models are tiny
    transformers.logging.set_verbosity_warning()
    transformers.logging.disable_progress_bar()
    handler = Collect()
    for name in ("transformers", "peft", "accelerate"):
        logging.getLogger(name).addHandler(handler)
    results = {
        "versions": {
            "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "peft": getattr(peft, "__version__", None),
        },
        "jobs": [run_job(job, handler) for job in spec["jobs"]],
    }
    with open(spec["results"], "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
