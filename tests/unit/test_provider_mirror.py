from __future__ import annotations

from pathlib import Path

import pytest

from ecomm_cli.infra import provider_mirror
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.unit


def _mirror(root: Path) -> Path:
    (root / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0").mkdir(parents=True)
    return root


def test_tf_plugin_dir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = _mirror(tmp_path / "mirror")
    monkeypatch.setenv("TF_PLUGIN_DIR", str(mirror))
    settings = Settings.load()
    assert provider_mirror.find_mirror(settings) == mirror
    env = provider_mirror.terraform_env(settings)
    config = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    assert f'path    = "{mirror}"' in config
    assert 'exclude = ["registry.terraform.io/*/*"]' in config


def test_implied_mirror_is_found_when_variable_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_PLUGIN_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "none"))
    assert provider_mirror.find_mirror(Settings.load()) is None
    assert provider_mirror.terraform_env(Settings.load()) == {}  # the public registry
    mirror = _mirror(tmp_path / "xdg" / "terraform" / "plugins")
    assert provider_mirror.find_mirror(Settings.load()) == mirror
