"""The scaffolded packages the kit's tests share: one of each style, written by `tongban adapters
new` and installed by one pip call into a folder of their own (`site`), which only subprocesses
put on their path, so this process's registry stays the hub's own adapters. Installing is the
slow part (a build per package), so it is done once per session."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli.main import main

# style -> (adapter name, Chinese label, English label)
PACKAGES = {"rest": ("socialsec", "人力资源和社会保障局", "human resources and social security"),
            "soap": ("kitsoap", "测试局", "test bureau"),
            "db": ("kitdb", "测试局", "test bureau"),
            "file": ("kitfile", "测试局", "test bureau")}


@pytest.fixture(scope="session")
def scaffolded(tmp_path_factory) -> Path:
    """The folder holding <name>/ (each package as written) and site/ (all of them installed)."""
    tmp = tmp_path_factory.mktemp("scaffolded")
    for style, (name, zh, en) in PACKAGES.items():
        assert main(["adapters", "new", name, "--style", style, "--package", str(tmp / name),
                     "--label-zh", zh, "--label-en", en]) == 0
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp / "site"),
                    *(str(tmp / name) for name, _, _ in PACKAGES.values())], check=True, timeout=600)
    return tmp
