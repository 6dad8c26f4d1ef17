"""A deterministic test double of vLLM's V1 synchronous engine API (the part atomr-infer drives).

Put `test/fakes/vllm` on PYTHONPATH and `import vllm` finds this package instead of the real one. It mirrors the
real signatures (vllm/engine/arg_utils.py EngineArgs, vllm/v1/engine/llm_engine.py LLMEngine, vllm/outputs.py
RequestOutput / CompletionOutput, vllm/sampling_params.py SamplingParams) closely enough that code which works
against it uses the real API the same way.

The "model" echoes: for a chat prompt rendered by the fake tokenizer it answers "Echo: <last user message>", for
any other prompt "Echo: <prompt>", one word per engine step, then finishes with `stop` (end of sequence).

Controlled by environment variables (read when used, so one interpreter can serve several scenarios):
  FAKE_VLLM_IMPORT_ERROR      raise at import: "<ExceptionType>:<message>" (e.g. "OSError:libcudart.so.12 missing")
  FAKE_VLLM_LOAD_ERROR        raise from LLMEngine.from_engine_args: "<ExceptionType>:<message>"
  FAKE_VLLM_RECORD_FILE       append one JSON line per engine_args / add_request / abort_request call
  FAKE_VLLM_LOAD_DELAY_MS     sleep this long in from_engine_args (a slow engine start)
  FAKE_VLLM_STEP_DELAY_MS     sleep this long in every step() (a GPU forward pass stand-in)
  FAKE_VLLM_CRASH_AFTER_STEPS os._exit(70) on the step after this many steps (a CUDA fault killing the process)
  FAKE_VLLM_NO_CHAT_TEMPLATE  the tokenizer has no chat template
  FAKE_VLLM_OUTPUT_IDS        "internal" (default): RequestOutput.request_id is the id add_request returned;
                              "external": the caller's id
  FAKE_VLLM_SPAWN_WORKER      from_engine_args starts a worker process with VLLM_WORKER_MULTIPROC_METHOD, as
                              vLLM's EngineCore does, and fails if it cannot
  FAKE_VLLM_ANSWER            the model's raw output instead of the echo, verbatim (Gemma 4 markers included),
                              one whitespace-ended piece per step. As in vLLM, special tokens (Gemma 4's
                              <|channel> <channel|> <|tool_call> <tool_call|> <|"|> <|think|>) are dropped from
                              the text unless SamplingParams.skip_special_tokens is False

Multimodal input is checked as vLLM checks it: `add_request(id, {"prompt": text, "multi_modal_data": {"image": [PIL
images], "audio": [(numpy waveform, sample rate)]}}, params)`, with one <|image|> / <|audio|> placeholder in the
prompt per item (vLLM's Gemma 4 processor expands each) and no more items than limit_mm_per_prompt allows. The
record holds each item's type, size and sample rate, and the echo describes them ("[image 5x3]", "[audio 1.50 s
22050 Hz]"), so tests see what reached the engine. The fake's chat template renders {"type": "image"} /
{"type": "audio"} content parts as those placeholders, as Gemma 4's does.

The fake tokenizer's chat template adds <|think|> after BOS when called with enable_thinking=True, and one
<|tool>declaration:NAME{…}<tool|> per tool when called with tools=[…] (as Gemma 4's template declares them).
"""

import builtins
import json
import os
import re
import sys
import time
import zlib

__version__ = "0.0.0+fake"


def _raise_configured(variable):
    spec = os.environ.get(variable)
    if not spec:
        return
    type_name, _, message = spec.partition(":")
    builtin = getattr(builtins, type_name, None)
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        raise builtin(message)
    # Hub errors (RepositoryNotFoundError, GatedRepoError...) are OSError subclasses in huggingface_hub.
    raise type(type_name, (OSError,), {})(message)


_raise_configured("FAKE_VLLM_IMPORT_ERROR")

# What the process looked like when vLLM was imported (tests check HF_* was set before the import).
_ENV_AT_IMPORT = {
    name: os.environ.get(name)
    for name in ("HF_HOME", "HF_HUB_CACHE", "VLLM_LOGGING_STREAM", "VLLM_WORKER_MULTIPROC_METHOD", "PYTHON_BIN")
}


def _record(event, **fields):
    path = os.environ.get("FAKE_VLLM_RECORD_FILE")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": event, **fields}) + "\n")


class EngineArgs:
    """The constructor keywords vLLM's EngineArgs dataclass accepts (a subset); unknown ones raise TypeError."""

    _FIELDS = {
        "model": "facebook/opt-125m",
        "tokenizer": None,
        "revision": None,
        "download_dir": None,
        "tensor_parallel_size": 1,
        "dtype": "auto",
        "gpu_memory_utilization": 0.9,
        "max_model_len": None,
        "enforce_eager": False,
        "enable_prefix_caching": None,
        "enable_chunked_prefill": None,
        "max_num_seqs": None,
        "block_size": None,
        "quantization": None,
        "limit_mm_per_prompt": None,
        "cpu_offload_gb": 0,
        "seed": 0,
        "disable_log_stats": False,
    }

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(self._FIELDS))
        if unknown:
            raise TypeError(f"EngineArgs.__init__() got an unexpected keyword argument '{unknown[0]}'")
        for name, default in self._FIELDS.items():
            setattr(self, name, kwargs.get(name, default))
        _record("engine_args", kwargs=kwargs, pid=os.getpid(), env_at_import=_ENV_AT_IMPORT)


class SamplingParams:
    """vllm.SamplingParams: keyword-only construction, `max_tokens` defaults to 16, `None` means "up to the
    context length"."""

    _FIELDS = {
        "n": 1,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "repetition_penalty": 1.0,
        "temperature": 1.0,
        "top_p": 1.0,
        "top_k": 0,
        "seed": None,
        "stop": None,
        "stop_token_ids": None,
        "max_tokens": 16,
        "min_tokens": 0,
        "skip_special_tokens": True,
        "include_stop_str_in_output": False,
        "structured_outputs": None,
    }

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(self._FIELDS))
        if unknown:
            raise TypeError(f"SamplingParams.__init__() got an unexpected keyword argument '{unknown[0]}'")
        for name, default in self._FIELDS.items():
            setattr(self, name, kwargs.get(name, default))
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        self.stop = list(self.stop or [])
        if self.temperature < 0:
            raise ValueError(f"temperature must be non-negative, got {self.temperature}.")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}.")

    def as_record(self):
        record = {name: getattr(self, name) for name in self._FIELDS}
        if self.structured_outputs is not None:
            record["structured_outputs"] = self.structured_outputs.as_record()
        return record


class StructuredOutputsParams:
    """vllm.sampling_params.StructuredOutputsParams: one of json / json_object / regex / choice / grammar. The
    double records it; it cannot constrain its echo (tests script a valid answer with FAKE_VLLM_ANSWER)."""

    def __init__(self, json=None, json_object=None, regex=None, choice=None, grammar=None):
        given = [name for name, value in (("json", json), ("json_object", json_object), ("regex", regex), ("choice", choice), ("grammar", grammar)) if value is not None]
        if len(given) != 1:
            raise ValueError(f"You must use one kind of structured outputs constraint but got: {given}")
        self.json = json
        self.json_object = json_object

    def as_record(self):
        return {"json": self.json, "json_object": self.json_object}


class _SamplingParamsModule:
    """`vllm.sampling_params` as the driver reads it (the real one is a submodule)."""

    SamplingParams = SamplingParams
    StructuredOutputsParams = StructuredOutputsParams


sampling_params = _SamplingParamsModule()


class CompletionOutput:
    def __init__(self, index, text, token_ids, cumulative_logprob, logprobs, finish_reason=None, stop_reason=None):
        self.index = index
        self.text = text
        self.token_ids = token_ids
        self.cumulative_logprob = cumulative_logprob
        self.logprobs = logprobs
        self.finish_reason = finish_reason
        self.stop_reason = stop_reason

    def finished(self):
        return self.finish_reason is not None


class RequestOutput:
    def __init__(self, request_id, prompt, prompt_token_ids, prompt_logprobs, outputs, finished, num_cached_tokens=0):
        self.request_id = request_id
        self.prompt = prompt
        self.prompt_token_ids = prompt_token_ids
        self.prompt_logprobs = prompt_logprobs
        self.outputs = outputs
        self.finished = finished
        self.num_cached_tokens = num_cached_tokens


_CHAT_TEMPLATE = "{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}"
_USER_TURN = re.compile(r"<start_of_turn>user\n(.*?)<end_of_turn>", re.S)


_PLACEHOLDERS = {"image": "<|image|>", "audio": "<|audio|>"}

_SPECIAL_TOKENS = ("<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", '<|"|>', "<|think|>")
_SPECIAL_IDS = {token: 100 + i for i, token in enumerate(_SPECIAL_TOKENS)}
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in _SPECIAL_TOKENS) + ")")


class FakeTokenizer:
    """One token per whitespace-led word; the chat template is Gemma-shaped."""

    bos_token = "<bos>"
    eos_token = "<eos>"

    def __init__(self):
        self.chat_template = None if os.environ.get("FAKE_VLLM_NO_CHAT_TEMPLATE") else _CHAT_TEMPLATE

    def encode(self, text, add_special_tokens=True):
        # Like a real tokenizer, each of Gemma 4's control tokens is one token of its own.
        ids = [2] if add_special_tokens else []
        for piece in _SPECIAL_SPLIT.split(text):
            if piece in _SPECIAL_IDS:
                ids.append(_SPECIAL_IDS[piece])
            else:
                ids += [1000 + zlib.crc32(w.encode()) % 30000 for w in re.findall(r"\s*\S+", piece)]
        return ids

    def convert_tokens_to_ids(self, token):
        # Hugging Face tokenizers answer the unknown token's id for a token they do not have.
        return _SPECIAL_IDS.get(token, 3)

    def apply_chat_template(self, conversation, tokenize=True, add_generation_prompt=False, **kwargs):
        if self.chat_template is None:
            raise ValueError("Cannot use chat template functions because tokenizer.chat_template is not set")
        if not tokenize and kwargs.get("return_dict"):
            raise ValueError("return_dict requires tokenize=True")
        text = self.bos_token
        if kwargs.get("enable_thinking"):
            text += "<|think|>"
        for tool in kwargs.get("tools") or []:
            function = tool["function"]
            text += f"<|tool>declaration:{function['name']}{json.dumps(function.get('parameters', {}))}<tool|>"
        for message in conversation:
            if message["role"] == "tool":
                # As Gemma 4's template: the result of a call, after the model turn that made it.
                text += f"<|tool_response>response:{message.get('tool_call_id', '')}{message['content']}<tool_response|>\n"
                continue
            if message["role"] not in ("system", "user", "assistant"):
                raise ValueError(f"Conversation roles must be system/user/assistant/tool, got {message['role']}")
            role = "model" if message["role"] == "assistant" else message["role"]
            content = message["content"]
            if not isinstance(content, str):
                # Gemma 4's template: text parts verbatim, a media part as its placeholder.
                content = "".join(part["text"] if part["type"] == "text" else _PLACEHOLDERS[part["type"]] for part in content)
            calls = "".join(
                f"<|tool_call>call:{call['function']['name']}{json.dumps(call['function']['arguments'])}<tool_call|>"
                for call in message.get("tool_calls") or []
            )
            text += f"<start_of_turn>{role}\n{content}{calls}<end_of_turn>\n"
        if add_generation_prompt:
            text += "<start_of_turn>model\n"
        return self.encode(text) if tokenize else text


class _ModelConfig:
    def __init__(self, args):
        self.model = args.model
        self.max_model_len = args.max_model_len or 8192
        self.dtype = args.dtype


class _Request:
    def __init__(self, internal_id, external_id, prompt, token_ids, params, words):
        self.internal_id = internal_id
        self.external_id = external_id
        self.prompt = prompt
        self.prompt_token_ids = token_ids
        self.params = params
        self.words = words
        self.generated = 0
        self.text = ""
        self.output_ids = []




def _without_special_tokens(text):
    for token in _SPECIAL_TOKENS:
        text = text.replace(token, "")
    return text


def _answer_words(prompt):
    scripted = os.environ.get("FAKE_VLLM_ANSWER")
    if scripted is not None:
        # Verbatim pieces, each keeping the whitespace after it, so joining them gives the text back exactly.
        return [piece for piece in re.findall(r"\S*\s*", scripted) if piece]
    turns = _USER_TURN.findall(prompt)
    source = turns[-1] if turns else prompt
    for placeholder in _PLACEHOLDERS.values():
        source = source.replace(placeholder, " ")
    return ["Echo:"] + source.split()


def _describe_item(item):
    if item["kind"] == "image":
        return f"[image {item['size'][0]}x{item['size'][1]}]"
    return f"[audio {item['samples'] / item['sample_rate']:.2f}s {item['sample_rate']}Hz]"


def _check_multi_modal(prompt, data, limits):
    """What vLLM's input processing checks before the model sees media: known modalities, PIL images and (ndarray,
    rate) tuples, the per-prompt limits, and one placeholder per item. Returns a record of each item."""
    if not data:
        for kind, placeholder in _PLACEHOLDERS.items():
            if placeholder in prompt:
                raise ValueError(f"the prompt has a {kind} placeholder but no {kind} data")
        return []
    unknown = sorted(set(data) - {"image", "audio", "video"})
    if unknown:
        raise ValueError(f"Unsupported modality: {unknown[0]}")
    from PIL import Image  # noqa: PLC0415 - only tests with media have Pillow (the media venv)
    import numpy  # noqa: PLC0415

    items = []
    for kind in ("image", "audio"):
        values = data.get(kind)
        if values is None:
            continue
        values = values if isinstance(values, list) else [values]
        limit = limits.get(kind, 999)
        if len(values) > limit:
            raise ValueError(f"At most {limit} {kind}(s) may be provided in one prompt.")
        placed = prompt.count(_PLACEHOLDERS[kind])
        if placed != len(values):
            raise ValueError(f"Failed to apply prompt replacement for mm_items['{kind}']: {placed} placeholders for {len(values)} items")
        for value in values:
            if kind == "image":
                if not isinstance(value, Image.Image):
                    raise TypeError(f"image items must be PIL.Image.Image, got {type(value).__name__}")
                items.append({"kind": "image", "type": "PIL.Image.Image", "mode": value.mode, "size": list(value.size)})
            else:
                if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], numpy.ndarray) and isinstance(value[1], int)):
                    raise TypeError("audio items must be (numpy.ndarray, int) tuples")
                waveform, rate = value
                if waveform.ndim != 1:
                    raise ValueError(f"audio waveforms must be mono (1-D), got shape {waveform.shape}")
                items.append({"kind": "audio", "type": "(numpy.ndarray, int)", "dtype": str(waveform.dtype), "samples": int(waveform.shape[0]), "sample_rate": rate})
    return items


def _spawn_worker_check():
    """vLLM starts EngineCore / workers with multiprocessing; under `spawn` the child re-imports __main__."""
    import multiprocessing

    method = os.environ.get("VLLM_WORKER_MULTIPROC_METHOD", "fork")
    context = multiprocessing.get_context(method)
    worker = context.Process(target=time.sleep, args=(0,))
    worker.start()
    worker.join(60)
    if worker.exitcode != 0:
        raise RuntimeError(f"Engine core initialization failed: worker process ({method}) exited with {worker.exitcode}")
    _record("worker_spawned", method=method)


class LLMEngine:
    """vllm.v1.engine.llm_engine.LLMEngine (synchronous, in-process)."""

    _steps = 0  # process-wide, so a crash can be scheduled across engines

    def __init__(self, engine_args):
        self.model_config = _ModelConfig(engine_args)
        self._tokenizer = FakeTokenizer()
        self._requests = {}  # internal id -> _Request
        self._by_external = {}
        self._counter = 0
        self._limits = engine_args.limit_mm_per_prompt or {}

    @classmethod
    def from_engine_args(cls, engine_args, usage_context=None, stat_loggers=None, enable_multiprocessing=False):
        _raise_configured("FAKE_VLLM_LOAD_ERROR")
        load_delay = float(os.environ.get("FAKE_VLLM_LOAD_DELAY_MS") or 0)
        if load_delay:
            time.sleep(load_delay / 1000)  # weights loading, CUDA graph capture: minutes on a real GPU
        if os.environ.get("FAKE_VLLM_SPAWN_WORKER"):
            _spawn_worker_check()
        print(f"INFO fake vLLM engine for {engine_args.model} ready", file=sys.stderr, flush=True)
        print("fake vLLM: a stray print() to stdout", flush=True)  # real libraries do this; it must not reach ours
        return cls(engine_args)

    def get_tokenizer(self):
        return self._tokenizer

    def get_model_config(self):
        return self.model_config

    def add_request(
        self,
        request_id,
        prompt,
        params,
        arrival_time=None,
        lora_request=None,
        tokenization_kwargs=None,
        trace_headers=None,
        priority=0,
    ):
        if not isinstance(request_id, str):
            raise TypeError(f"request_id must be a string, got {type(request_id)}")
        if not isinstance(params, SamplingParams):
            raise TypeError("params must be SamplingParams")
        text = prompt["prompt"] if isinstance(prompt, dict) else prompt
        media = _check_multi_modal(text, prompt.get("multi_modal_data") if isinstance(prompt, dict) else None, self._limits)
        token_ids = self._tokenizer.encode(text)
        if len(token_ids) > self.model_config.max_model_len:
            raise ValueError(
                f"The decoder prompt (length {len(token_ids)}) is longer than the maximum model length of "
                f"{self.model_config.max_model_len}. Make sure that `max_model_len` is no smaller than the number "
                "of text tokens."
            )
        self._counter += 1
        internal_id = f"{request_id}-{self._counter:08x}"  # vLLM appends a random suffix to the caller's id
        words = _answer_words(text) + [_describe_item(item) for item in media]
        self._requests[internal_id] = _Request(internal_id, request_id, text, token_ids, params, words)
        self._by_external[request_id] = internal_id
        extra = {"media": media} if media else {}
        _record("add_request", request_id=request_id, prompt=text, params=params.as_record(), **extra)
        return internal_id

    def abort_request(self, request_ids, internal=False):
        ids = [request_ids] if isinstance(request_ids, str) else list(request_ids)
        _record("abort_request", request_ids=ids)
        for request_id in ids:
            internal_id = request_id if internal else self._by_external.pop(request_id, request_id)
            self._requests.pop(internal_id, None)

    def has_unfinished_requests(self):
        return bool(self._requests)

    def get_num_unfinished_requests(self):
        return len(self._requests)

    def step(self):
        LLMEngine._steps += 1
        crash_after = os.environ.get("FAKE_VLLM_CRASH_AFTER_STEPS")
        if crash_after and LLMEngine._steps > int(crash_after):
            print("fake vLLM: CUDA error: an illegal memory access was encountered", file=sys.stderr, flush=True)
            os._exit(70)
        delay = float(os.environ.get("FAKE_VLLM_STEP_DELAY_MS") or 0)
        if delay:
            time.sleep(delay / 1000)
        outputs = []
        for request in list(self._requests.values()):
            outputs.append(self._advance(request))
        return outputs

    def _advance(self, request):
        params = request.params
        word = request.words[request.generated] if request.generated < len(request.words) else None
        finish_reason = stop_reason = None
        if word is None:
            finish_reason = "stop"  # end of sequence: EOS adds a token, no text
            request.output_ids.append(1)
        else:
            verbatim = os.environ.get("FAKE_VLLM_ANSWER") is not None
            piece = word if request.generated == 0 or verbatim else " " + word
            request.text += piece
            request.output_ids += self._tokenizer.encode(piece, add_special_tokens=False)
        request.generated += 1
        for stop in params.stop:
            at = request.text.find(stop)
            if at >= 0:
                request.text = request.text[: at + len(stop)] if params.include_stop_str_in_output else request.text[:at]
                finish_reason, stop_reason = "stop", stop
                break
        if finish_reason is None and params.max_tokens is not None and request.generated >= params.max_tokens:
            finish_reason = "length"
        context_left = self.model_config.max_model_len - len(request.prompt_token_ids)
        if finish_reason is None and request.generated >= context_left:
            finish_reason = "length"
        # Like vLLM's detokenizer, hold back text that could still become a stop string.
        visible = request.text if not params.skip_special_tokens else _without_special_tokens(request.text)
        if finish_reason is None and params.stop:
            visible = visible[: max(0, len(visible) - (max(len(s) for s in params.stop) - 1))]
        if finish_reason is not None:
            self._requests.pop(request.internal_id, None)
            self._by_external.pop(request.external_id, None)
        reported_id = request.external_id if os.environ.get("FAKE_VLLM_OUTPUT_IDS") == "external" else request.internal_id
        completion = CompletionOutput(
            index=0,
            text=visible,
            token_ids=list(request.output_ids),
            cumulative_logprob=None,
            logprobs=None,
            finish_reason=finish_reason,
            stop_reason=stop_reason,
        )
        return RequestOutput(
            request_id=reported_id,
            prompt=request.prompt,
            prompt_token_ids=request.prompt_token_ids,
            prompt_logprobs=None,
            outputs=[completion],
            finished=finish_reason is not None,
            num_cached_tokens=0,
        )
