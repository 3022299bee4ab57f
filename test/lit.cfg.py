# lit configuration for llamac: FileCheck tests of the dialect, the importer,
# the passes and the whole pipeline.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "llamac"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "tools", "unit", "CMakeLists.txt", "README.md"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.llamac_obj_root, "test")

llvm_config.use_default_substitutions()
config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(
    ("%make_checkpoint",
     f"{config.python_executable} {config.llamac_src_root}/test/tools/make_checkpoint.py"))
# Inserted first: lit defines its own %python (the interpreter running lit,
# which may lack numpy).
config.substitutions.insert(0, ("%python", config.python_executable))
config.substitutions.append(("%fuzz_corpus", os.path.join(config.llamac_src_root, "fuzz", "corpus")))

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.llamac_tools_dir, config.llvm_tools_dir]
tools = ["llamac", "llamac-opt", "fake-model-exe", "fake-model-batch2-exe",
         "fake-model-lastrow-exe", "fake-model-long-exe",
         "fake-model-long-lastrow-exe", "fake-model-long-batch2-exe",
         "fake-model-long-broken-exe", "fake-model-top1-exe", "reference-draw"]
if config.enable_fuzzers:
    config.available_features.add("fuzzers")
    tools += ["fuzz-safetensors-header", "fuzz-hf-config"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The checkpoint generator needs numpy, safetensors and ml_dtypes in the
# Python that CMake found (not necessarily the one running lit).
import subprocess
if subprocess.call([config.python_executable, "-c", "import numpy, safetensors, ml_dtypes"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("checkpoint-gen")

# Hugging Face's tokenizers package (PyPI), the reference for tokenizer.json.
config.substitutions.append(
    ("%make_hf_tokenizer",
     f"{config.python_executable} {config.llamac_src_root}/test/tools/make_hf_tokenizer.py"))
if subprocess.call([config.python_executable, "-c", "import tokenizers"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("hf-tokenizers")

# CUDA targets: ptxas checks the PTX llamac emits (CI has the toolkit, no
# GPU); a machine with the NVIDIA driver cannot test the no-driver error.
import shutil
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
    # The toolkit's libdevice, which llamac compile finds itself; for
    # llamac-opt's llama-to-cuda pipeline.
    libdevice = os.path.join(os.path.dirname(os.path.realpath(ptxas)), "..", "nvvm",
                             "libdevice", "libdevice.10.bc")
    if os.path.exists(libdevice):
        config.available_features.add("libdevice")
        config.substitutions.append(("%libdevice", os.path.normpath(libdevice)))
# The driver's test double (test/Runtime/Inputs/fake_libcuda.c).
config.substitutions.append(("%fake_cuda_old", os.path.join(config.llamac_obj_root, "lib", "fake-cuda-old")))
config.substitutions.append(("%fake_cuda", os.path.join(config.llamac_obj_root, "lib", "fake-cuda")))
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")  # what the executables dlopen
    config.available_features.add("cuda-driver")
except OSError:
    pass

# Tests of the real checkpoints in ../shared/testdata skip where it is absent.
shared = os.path.normpath(os.path.join(config.llamac_src_root, "..", "shared", "testdata"))
if os.path.isdir(shared):
    config.available_features.add("shared-testdata")
    config.substitutions.append(("%shared_testdata", shared))
