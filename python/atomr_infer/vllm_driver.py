"""The Python half of atomr-infer's vLLM runner, loaded into the pythonia bridge's interpreter.

Only strings cross the bridge: every function takes JSON text and returns JSON text. Reading vLLM objects attribute
by attribute through the bridge costs a round trip per attribute and pins Python objects until Node's GC frees
their proxies, so all of that happens here and `step` hands back one JSON document per call.

This file must stay safe to import with no side effects: under vLLM's `spawn` multiprocessing the worker processes
re-run the parent's `__main__`, and `prepare()` points `__main__` here (pythonia's own entry script would try to
reopen Node's IPC channel and crash the worker).
"""

import gc
import json
import os
import sys
import time
import traceback

def _load_sibling(name):
    # Loaded by path, like this file (the bridge imports it by path; no package on sys.path).
    import importlib.util  # noqa: PLC0415

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"atomr_infer_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_media = _load_sibling("vllm_media")
_prompt = _load_sibling("vllm_prompt")

_ENGINES = {}
_NEXT_ENGINE = [0]

_HUB_ERRORS = {
    "RepositoryNotFoundError",
    "GatedRepoError",
    "RevisionNotFoundError",
    "EntryNotFoundError",
    "LocalEntryNotFoundError",
    "HFValidationError",
}
_MODEL_MESSAGES = (
    "does not appear to have a file named",
    "is not a local folder and is not a valid model identifier",
    "can't load the configuration",
    "gated repo",
    "not supported for now",
    "model architectures",
)
_MEMORY_MESSAGES = (
    "out of memory",
    "no available memory for the cache blocks",
    "larger than the available kv cache",
)


def _ok(**fields):
    return json.dumps({"ok": True, **fields})


def _describe_error(error):
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    summary = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return summary[:600]


def _print_traceback(error):
    # Each failure reaches the user as one line (the JSON below, turned into an error by Node); the traceback
    # behind it only with ATOMR_INFER_DEBUG=1, the project's switch for "show me where it happened". Printed
    # unconditionally it landed on the user's stderr before that line (vLLM missing, its import raising).
    if os.environ.get("ATOMR_INFER_DEBUG") == "1":
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
        sys.stderr.flush()


def _fail(kind, error):
    _print_traceback(error)
    missing = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
    return json.dumps({"ok": False, "error": {"kind": kind, "message": _describe_error(error), "module": missing}})


def _classify_engine_error(error):
    names = {cls.__name__ for cls in type(error).__mro__}
    message = str(error).lower()
    if names & _HUB_ERRORS or any(m in message for m in _MODEL_MESSAGES):
        return "model"
    if "OutOfMemoryError" in names or any(m in message for m in _MEMORY_MESSAGES):
        return "out-of-memory"
    return "engine"


def prepare(options_json):
    """Makes this interpreter safe for vLLM's worker processes; called once per bridge start."""
    try:
        main = sys.modules.get("__main__")
        if main is not None:
            # multiprocessing's spawn re-runs __main__.__file__ in every child; pythonia's interface.py would
            # open Node's IPC socket there and die. This module is import-safe, so children run it instead.
            main.__file__ = os.path.abspath(__file__)
        return _ok(pid=os.getpid(), python=sys.version.split()[0], executable=sys.executable)
    except Exception as error:  # noqa: BLE001 - everything is reported as JSON
        return _fail("bridge", error)


def _import_vllm():
    try:
        import vllm  # noqa: PLC0415 - deliberately late: HF_* variables must be set first
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing == "vllm":
            return None, _fail("vllm-missing", error)
        return None, _fail("vllm-import-failed", error)
    except BaseException as error:  # noqa: BLE001 - a broken CUDA/torch install raises anything
        if isinstance(error, KeyboardInterrupt):
            raise
        return None, _fail("vllm-import-failed", error)
    return vllm, None


def _tokenizer_of(engine):
    tokenizer = None
    getter = getattr(engine, "get_tokenizer", None)
    if callable(getter):
        try:
            tokenizer = getter()
        except Exception:  # noqa: BLE001 - older engines expose a tokenizer group instead
            tokenizer = None
    if tokenizer is None:
        tokenizer = getattr(engine, "tokenizer", None)
    # vLLM < 0.10 wraps the Hugging Face tokenizer in a TokenizerGroup.
    if tokenizer is not None and not hasattr(tokenizer, "apply_chat_template"):
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
    return tokenizer


def _max_model_len(engine):
    config = getattr(engine, "model_config", None)
    if config is None and callable(getattr(engine, "get_model_config", None)):
        config = engine.get_model_config()
    value = getattr(config, "max_model_len", None)
    return value if isinstance(value, int) else None


def _device_name():
    # NVML through vLLM's platform layer: torch.cuda would create a CUDA context (hundreds of MB) in this process.
    try:
        from vllm.platforms import current_platform  # noqa: PLC0415

        return str(current_platform.get_device_name(0))
    except Exception:  # noqa: BLE001 - best effort, only for the UI header
        return None


def launch(spec_json):
    """Creates an engine: EngineArgs(**engineArgs) -> LLMEngine.from_engine_args. Slow (minutes on a real GPU)."""
    try:
        spec = json.loads(spec_json)
        for name, value in (spec.get("env") or {}).items():
            os.environ[name] = value
    except Exception as error:  # noqa: BLE001
        return _fail("bridge", error)
    vllm, failure = _import_vllm()
    if failure is not None:
        return failure
    try:
        engine_args = vllm.EngineArgs(**spec["engineArgs"])
        engine = vllm.LLMEngine.from_engine_args(engine_args)
    except BaseException as error:  # noqa: BLE001
        if isinstance(error, KeyboardInterrupt):
            raise
        return _fail(_classify_engine_error(error), error)
    tokenizer = _tokenizer_of(engine)
    _NEXT_ENGINE[0] += 1
    engine_id = f"e{_NEXT_ENGINE[0]}"
    _ENGINES[engine_id] = _EngineState(vllm, engine, tokenizer, spec["engineArgs"])
    return _ok(
        engineId=engine_id,
        vllmVersion=str(getattr(vllm, "__version__", "unknown")),
        device=_device_name(),
        maxModelLen=_max_model_len(engine),
        chatTemplate=bool(getattr(tokenizer, "chat_template", None)),
    )


def _structured(vllm, spec):
    """Structured outputs under the name this vLLM uses: `structured_outputs=StructuredOutputsParams(...)` (newer
    releases) or `guided_decoding=GuidedDecodingParams(...)` (older ones); `spec` is {"json": schema} or
    {"json_object": True}."""
    if not spec:
        return {}
    module = getattr(vllm, "sampling_params", None)
    for class_name, keyword in (("StructuredOutputsParams", "structured_outputs"), ("GuidedDecodingParams", "guided_decoding")):
        cls = getattr(module, class_name, None)
        if cls is not None:
            return {keyword: cls(**spec)}
    raise RuntimeError("this vLLM has no structured outputs (StructuredOutputsParams or GuidedDecodingParams)")




class _EngineState:
    def __init__(self, vllm, engine, tokenizer, engine_args=None):
        self.vllm = vllm
        self.engine = engine
        self.tokenizer = tokenizer
        # Messages -> the engine's prompt (chat templates, fallbacks, media placeholders): vllm_prompt.py.
        self.prompts = _prompt.PromptRenderer(tokenizer, engine_args, _media)
        # Our request id -> characters of cumulative text already sent, and the engine's id -> ours.
        self.sent = {}
        self.ours = {}
        self.counts = {}
        # Requests with thinking on: their thought tokens are counted when they finish.
        self.thinking = set()
        self._thought_markers = None

    def add(self, add, events):
        request_id = add["id"]
        try:
            prompt = self.prompts.prompt(add)
            params = self.vllm.SamplingParams(**add.get("sampling", {}), **_structured(self.vllm, add.get("structured")))
            engine_id = self.engine.add_request(request_id, prompt, params)
        except Exception as error:  # noqa: BLE001 - one bad request must not fail the others
            _print_traceback(error)
            event = {"id": request_id, "text": "", "finish": "error", "error": _describe_error(error)}
            if isinstance(error, _media.MediaError):
                event["error"], event["errorKind"] = str(error), "media"
            events.append(event)
            return
        self.sent[request_id] = 0
        self.ours[request_id] = request_id
        if add.get("thinking"):
            self.thinking.add(request_id)
        # vLLM >= 0.11 returns its own id (ours plus a random suffix) and may report outputs under it.
        if isinstance(engine_id, str):
            self.ours[engine_id] = request_id

    def thought_markers(self):
        """The token ids of Gemma 4's thought channel, <|channel> and <channel|>, or None when this tokenizer
        does not have them as single tokens (then no reasoning count is reported rather than a wrong one)."""
        if self._thought_markers is None:
            ids = ()
            convert = getattr(self.tokenizer, "convert_tokens_to_ids", None)
            if convert is not None:
                try:
                    found = (convert("<|channel>"), convert("<channel|>"))
                    unknown = getattr(self.tokenizer, "unk_token_id", None)
                    if all(isinstance(i, int) and i != unknown for i in found) and found[0] != found[1]:
                        ids = found
                except Exception:  # noqa: BLE001 - no count beats a failed request
                    ids = ()
            self._thought_markers = ids
        return self._thought_markers or None

    def reasoning_tokens(self, token_ids):
        """Tokens inside thought channels, as vLLM's reasoning parsers count them (markers excluded)."""
        markers = self.thought_markers()
        if markers is None:
            return None
        start, end = markers
        count = 0
        inside = False
        for token_id in token_ids:
            if token_id == start:
                inside = True
            elif token_id == end:
                inside = False
            elif inside:
                count += 1
        return count

    def abort(self, request_id):
        self.thinking.discard(request_id)
        if self.sent.pop(request_id, None) is None:
            return
        for engine_id in [k for k, v in self.ours.items() if v == request_id]:
            del self.ours[engine_id]
        self.engine.abort_request([request_id])

    def collect(self, output, events):
        request_id = self.ours.get(output.request_id)
        if request_id is None or request_id not in self.sent:
            return  # aborted while the engine was working on it
        completion = output.outputs[0]
        text = completion.text or ""
        start = self.sent[request_id]
        delta = text[start:] if len(text) > start else ""
        finish = completion.finish_reason if output.finished else None
        if finish is not None and finish not in ("stop", "length", "abort"):
            finish = "stop"
        if not delta and finish is None:
            return
        self.sent[request_id] = max(start, len(text))
        event = {
            "id": request_id,
            "text": delta,
            "finish": finish,
            "promptTokens": len(output.prompt_token_ids or []),
            "outputTokens": len(completion.token_ids or []),
            "cachedTokens": int(getattr(output, "num_cached_tokens", 0) or 0),
        }
        if finish is not None and request_id in self.thinking:
            # Counted once, at the end: scanning the whole answer on every step would be quadratic.
            self.thinking.discard(request_id)
            reasoning = self.reasoning_tokens(completion.token_ids or [])
            if reasoning is not None:
                event["reasoningTokens"] = reasoning
        events.append(event)
        if finish is not None:
            del self.sent[request_id]
            for engine_id in [k for k, v in self.ours.items() if v == request_id]:
                del self.ours[engine_id]


def step(engine_id, commands_json):
    """Applies aborts and adds, then runs engine steps until some request has new text or finished (or the time
    budget is spent), and returns every request's news as one JSON document."""
    started = time.perf_counter()
    state = _ENGINES.get(engine_id)
    if state is None:
        return json.dumps({"ok": False, "error": {"kind": "bridge", "message": f"no engine {engine_id}"}})
    try:
        commands = json.loads(commands_json) if commands_json else {}
        events = []
        for request_id in commands.get("abort", ()):
            state.abort(request_id)
        for add in commands.get("add", ()):
            state.add(add, events)
        budget = started + float(commands.get("budgetMs", 100)) / 1000
        steps = 0
        engine = state.engine
        while state.sent and engine.has_unfinished_requests():
            outputs = engine.step()
            steps += 1
            for output in outputs:
                state.collect(output, events)
            if events or time.perf_counter() >= budget:
                break
        # Requests the engine no longer knows about would otherwise wait forever.
        if state.sent and not engine.has_unfinished_requests():
            for request_id in list(state.sent):
                events.append({"id": request_id, "text": "", "finish": "error", "error": "the engine dropped the request"})
                state.sent.pop(request_id)
        return _ok(events=events, steps=steps, pending=len(state.sent), pyMs=(time.perf_counter() - started) * 1000)
    except Exception as error:  # noqa: BLE001
        return _fail("engine", error)


def close(engine_id):
    """Drops an engine and the GPU memory it holds (as far as vLLM lets go in-process)."""
    state = _ENGINES.pop(engine_id, None)
    if state is None:
        return _ok(closed=False)
    try:
        shutdown = getattr(state.engine, "shutdown", None) or getattr(getattr(state.engine, "engine_core", None), "shutdown", None)
        if callable(shutdown):
            shutdown()
    except Exception as error:  # noqa: BLE001 - the process may be going away anyway
        print(f"atomr-infer: engine shutdown raised {_describe_error(error)}", file=sys.stderr)
    del state
    gc.collect()
    return _ok(closed=True)
