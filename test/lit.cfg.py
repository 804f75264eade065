# -*- Python -*-
import os
import lit.formats

config.name = "vram-opt"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".onnxtxt", ".test", ".textproto"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vram_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.vram_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Fixed locale and time zone: reports must not depend on either.
config.environment["LC_ALL"] = "C"
config.environment["TZ"] = "UTC"

config.substitutions.append(("%models", config.shared_models))
config.substitutions.append(("%srcroot", config.vram_src_root))
