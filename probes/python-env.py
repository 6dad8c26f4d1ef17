# atomr-infer probe: describes this Python interpreter and whether vLLM is installed, as one JSON line.
#
# It must stay cheap and safe on any interpreter a user points ATOMR_INFER_PYTHON at:
# - never `import vllm` (5-10 s, initialises CUDA); importlib.util.find_spec only locates the package;
# - the version comes from the installed distribution's metadata, not from the package;
# - plain syntax that even Python 2.7 parses, so an old interpreter reports its version instead of a SyntaxError.
import json
import sys


def vllm_info():
    info = {"found": False, "origin": None, "version": None, "error": None}
    try:
        import importlib.util
    except ImportError:  # Python 2: no importlib.util, and no vLLM either
        return info
    try:
        spec = importlib.util.find_spec("vllm")
    except Exception as error:  # a broken sys.path entry or a half-installed package
        info["error"] = "find_spec failed: %s: %s" % (type(error).__name__, error)
        return info
    if spec is None:
        return info
    info["found"] = True
    info["origin"] = spec.origin or (list(spec.submodule_search_locations or []) or [None])[0]
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        return info
    try:
        info["version"] = metadata.version("vllm")
    except Exception:  # found on sys.path (a source checkout, PYTHONPATH) without distribution metadata
        pass
    return info


def main():
    version = sys.version_info
    report = {
        "schema": 1,
        "python": "%d.%d.%d" % (version[0], version[1], version[2]),
        "version_info": [version[0], version[1], version[2]],
        "implementation": getattr(getattr(sys, "implementation", None), "name", "unknown"),
        "executable": sys.executable,
        "vllm": vllm_info(),
    }
    sys.stdout.write(json.dumps(report) + "\n")


main()
