"""Media for atomr-infer's vLLM driver: the base64 bytes of a request's image and audio parts, decoded into what
vLLM's engine takes in `multi_modal_data` — RGB PIL images, and (mono float32 waveform, sample rate) tuples — with
the libraries vLLM itself depends on (Pillow; soundfile from vllm[audio]). Resizing and resampling are left to
vLLM's Gemma 4 processor (its data parser resamples audio to the feature extractor's rate). Import-safe: the heavy
modules load on first use.
"""


def _describe(error):
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__

# Gemma 4's processor placeholders (Gemma4Processor.image_token / audio_token): the chat template renders one per
# {"type": "image"} / {"type": "audio"} part, and vLLM's Gemma 4 processor expands each into the encoder's tokens.
PLACEHOLDERS = {"image": "<|image|>", "audio": "<|audio|>"}


class MediaError(ValueError):
    """Media the engine cannot take (undecodable bytes, a template that did not place it): the request's fault."""


def _decode_image(item, index):
    """An RGB PIL image, as vLLM's multi_modal_data["image"] takes them (Pillow is a vLLM dependency)."""
    import base64  # noqa: PLC0415
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    try:
        image = Image.open(io.BytesIO(base64.b64decode(item["data"])))
        image.load()
        return image.convert("RGB")
    except Exception as error:  # noqa: BLE001 - any decoder failure is bad media
        raise MediaError(f"media[{index}] ({item.get('mediaType')}) could not be decoded: {_describe(error)}") from error


def _decode_audio(item, index):
    """(mono float32 waveform, sample rate), as vLLM's multi_modal_data["audio"] takes them. soundfile comes with
    vllm[audio]; vLLM's Gemma 4 parser resamples to the feature extractor's rate (target_sr) itself."""
    import base64  # noqa: PLC0415
    import io  # noqa: PLC0415

    try:
        import soundfile  # noqa: PLC0415
    except ImportError as error:
        raise MediaError("audio input needs the soundfile package: pip install 'vllm[audio]'") from error
    try:
        samples, rate = soundfile.read(io.BytesIO(base64.b64decode(item["data"])), dtype="float32", always_2d=True)
    except Exception as error:  # noqa: BLE001 - any decoder failure is bad media
        raise MediaError(f"media[{index}] ({item.get('format')}) could not be decoded: {_describe(error)}") from error
    if samples.shape[0] == 0:
        raise MediaError(f"media[{index}] has no samples")
    return samples.mean(axis=1).astype("float32"), int(rate)


def multi_modal_data(media):
    data = {}
    for index, item in enumerate(media):
        kind = item["kind"]
        decoded = _decode_image(item, index) if kind == "image" else _decode_audio(item, index)
        data.setdefault(kind, []).append(decoded)
    return data

