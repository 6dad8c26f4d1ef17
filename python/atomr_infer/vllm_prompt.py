"""Prompt rendering for atomr-infer's vLLM driver: a request's messages turned into the text (and, with images or
audio, the `{"prompt", "multi_modal_data"}` form) that vLLM's engine takes.

Kept apart from the driver because it is one job with its own fallbacks — the model's processor chat template
(which places media placeholders), the tokenizer's template, the same template with the system turn folded into
the first user turn, and Gemma's turn format when there is no template at all — while the driver only moves
requests and events across the bridge. Import-safe like the driver (vLLM's spawned workers re-import it):
transformers loads on first use, and the media module is handed in by the driver, which loads both by path (one
copy of `MediaError`, so the driver's `isinstance` check sees the errors raised here).
"""


def _text_of(content):
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")


def _fallback_chat(messages):
    """Gemma's turn format, for tokenizers without a chat template."""
    system = "\n\n".join(_text_of(m["content"]) for m in messages if m["role"] == "system")
    text = ""
    for message in messages:
        if message["role"] == "system":
            continue
        role = "model" if message["role"] == "assistant" else "user"
        content = _text_of(message["content"])
        if system and role == "user":
            content, system = f"{system}\n\n{content}", ""
        text += f"<start_of_turn>{role}\n{content}<end_of_turn>\n"
    if system:
        text += f"<start_of_turn>user\n{system}<end_of_turn>\n"
    return text + "<start_of_turn>model\n"


def _fold_system(messages):
    """Templates that reject the system role (Gemma 2's does) get it prepended to the first user turn."""
    system = "\n\n".join(_text_of(m["content"]) for m in messages if m["role"] == "system")
    rest = [{"role": "user" if m["role"] == "tool" else m["role"], "content": m["content"]} for m in messages if m["role"] != "system"]
    if system:
        for message in rest:
            if message["role"] == "user":
                content = message["content"]
                if isinstance(content, str):
                    message["content"] = f"{system}\n\n{content}"
                else:
                    message["content"] = [{"type": "text", "text": f"{system}\n\n"}, *content]
                break
        else:
            rest.insert(0, {"role": "user", "content": system})
    return rest


class PromptRenderer:
    """Renders one engine's requests: its tokenizer, the engine arguments that name the model (for the
    processor), and the driver's media module (vllm_media)."""

    def __init__(self, tokenizer, engine_args, media):
        self.tokenizer = tokenizer
        self.engine_args = engine_args or {}
        self.media = media
        self._processor = None

    def processor(self):
        """The model's transformers processor (Gemma4Processor), whose chat template places media placeholders;
        False when transformers cannot load one (then the tokenizer's template, the same Jinja file on Gemma 4)."""
        if self._processor is None:
            try:
                from transformers import AutoProcessor  # noqa: PLC0415

                args = self.engine_args
                kwargs = {"revision": args["revision"]} if args.get("revision") else {}
                self._processor = AutoProcessor.from_pretrained(args.get("model"), **kwargs)
            except Exception:  # noqa: BLE001 - fall back to the tokenizer's template
                self._processor = False
        return self._processor

    def render(self, add):
        messages = add["messages"]
        if add.get("mode") == "completion":
            return "\n".join(_text_of(m["content"]) for m in messages)
        tokenizer = self.tokenizer
        if add.get("media"):
            processor = self.processor()
            if processor and getattr(processor, "chat_template", None):
                tokenizer = processor
        # Gemma 4's template reads `enable_thinking` (it adds <|think|> to the system turn); others ignore it.
        template_kwargs = {"enable_thinking": True} if add.get("thinking") else {}
        if add.get("tools"):
            # The chat template declares them (Gemma 4: <|tool>declaration:NAME{…}<tool|> in the system turn).
            template_kwargs["tools"] = add["tools"]
        if tokenizer is not None and getattr(tokenizer, "chat_template", None):
            for attempt in (messages, _fold_system(messages)):
                try:
                    text = tokenizer.apply_chat_template(
                        attempt, tokenize=False, add_generation_prompt=True, **template_kwargs
                    )
                except Exception:  # noqa: BLE001 - try the folded form, then the fallback
                    continue
                # The engine tokenizes with special tokens: drop the template's own BOS to avoid a double BOS.
                bos = getattr(tokenizer, "bos_token", None)
                if bos and text.startswith(bos):
                    text = text[len(bos) :]
                return text
        if add.get("media"):
            raise self.media.MediaError("this model has no chat template to place images or audio in the prompt")
        return _fallback_chat(messages)

    def prompt(self, add):
        """The engine's prompt: the rendered text, plus multi_modal_data when the request carries media (vLLM's
        {"prompt", "multi_modal_data"} form), after checking the template placed one placeholder per item."""
        text = self.render(add)
        media = add.get("media")
        if not media:
            return text
        data = self.media.multi_modal_data(media)
        processor = self.processor()
        for kind, items in data.items():
            # Gemma4Processor.image_token / audio_token (from its tokenizer), else Gemma 4's own spelling.
            token = getattr(processor, f"{kind}_token", None) if processor else None
            placed = text.count(token if isinstance(token, str) and token else self.media.PLACEHOLDERS[kind])
            if placed != len(items):
                raise self.media.MediaError(f"the chat template placed {placed} {kind} placeholder(s) for {len(items)} {kind}(s)")
        return {"prompt": text, "multi_modal_data": data}
