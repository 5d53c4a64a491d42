"""The GPU check's environment: Python, package versions, the GPU. Writes
OUT/env.json.

  python3 env.py OUT/env.json"""

import importlib.util
import json
import platform
import subprocess
import sys

PACKAGES = ("torch", "transformers", "peft", "accelerate", "safetensors", "tokenizers", "bitsandbytes")


def version(name):
    if importlib.util.find_spec(name) is None:
        return None
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:
        return "unknown"


def main(path):
    doc = {"python": sys.version.split()[0], "platform": platform.platform(),
           "packages": {p: version(p) for p in PACKAGES}}
    try:
        import torch

        doc["cuda_available"] = torch.cuda.is_available()
        doc["torch_cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            doc["gpu"] = torch.cuda.get_device_name(0)
            doc["gpu_memory_gib"] = torch.cuda.get_device_properties(0).total_memory / 2**30
            doc["capability"] = list(torch.cuda.get_device_capability(0))
    except Exception as e:  # the report says what is wrong rather than nothing
        doc["torch_error"] = "%s: %s" % (type(e).__name__, e)
    try:
        doc["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit",
                                            "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        doc["nvidia_smi"] = str(e)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(doc, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
