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
# Text reports are laid out to $COLUMNS (80 when unset); the suite checks
# them at 80 whatever the terminal lit runs in.
config.environment["COLUMNS"] = "80"

# The real exports shared between worktrees (<srcroot>/../shared/models, or
# lit --param shared_models=DIR). A test that reads %models says
# "REQUIRES: shared-models": where the folder is absent it is reported
# UNSUPPORTED, and this note says why, instead of failing or passing unseen.
config.shared_models = lit_config.params.get("shared_models", config.shared_models)
if os.path.isdir(config.shared_models):
    config.available_features.add("shared-models")
else:
    lit_config.note("shared models not found at %s: the tests that REQUIRE "
                    "shared-models are unsupported" % config.shared_models)
config.substitutions.append(("%models", config.shared_models))

# A headless browser for the HTML report's test (Debian's chromium package,
# scripts/install-deps.sh --with-browser). A test that needs it says
# "REQUIRES: chromium": where it is absent it is reported UNSUPPORTED, and
# this note says why.
import shutil
if shutil.which("chromium"):
    config.available_features.add("chromium")
else:
    lit_config.note("chromium not found: the HTML report's browser test is "
                    "unsupported (scripts/install-deps.sh --with-browser "
                    "installs it)")
config.substitutions.append(("%srcroot", config.vram_src_root))
