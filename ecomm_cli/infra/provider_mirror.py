"""Where Terraform gets the hashicorp/aws provider: a filesystem mirror or the public registry.

`TF_PLUGIN_DIR` names the mirror (a folder holding `registry.terraform.io/hashicorp/aws/...`).
Without it we look where Terraform itself looks for implied local mirrors, and failing that we
leave Terraform on the public registry, as any Terraform user would have it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ecomm_cli.settings import Settings

PROVIDER_SUBPATH = Path("registry.terraform.io") / "hashicorp" / "aws"


def implied_mirror_dirs() -> list[Path]:
    """Terraform's implied local mirror directories on Unix, in its search order."""
    home = Path.home()
    xdg_data = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
    dirs = [home / ".terraform.d" / "plugins", xdg_data / "terraform" / "plugins"]
    for data_dir in os.environ.get("XDG_DATA_DIRS", "/usr/local/share:/usr/share").split(":"):
        if data_dir:
            dirs.append(Path(data_dir) / "terraform" / "plugins")
    return dirs


def holds_aws_provider(directory: Path) -> bool:
    """True when `directory` is a mirror with at least one hashicorp/aws version in it."""
    provider = directory / PROVIDER_SUBPATH
    return provider.is_dir() and any(provider.iterdir())


def find_mirror(settings: Settings) -> Path | None:
    """The mirror to use: `TF_PLUGIN_DIR` if set, else an implied mirror holding the provider."""
    if settings.tf_plugin_dir is not None:
        return settings.tf_plugin_dir
    for candidate in implied_mirror_dirs():
        if holds_aws_provider(candidate):
            return candidate
    return None


def cli_config_text(mirror: Path) -> str:
    """A Terraform CLI config that installs registry providers from `mirror` only."""
    return (
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/*/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )


def terraform_env(settings: Settings) -> dict[str, str]:
    """Environment variables that point Terraform at the mirror (empty dict: use registry).

    A CLI config file is written under the state folder and named by TF_CLI_CONFIG_FILE; this
    also silences Terraform's warning when the machine points at a config file that is missing.
    """
    mirror = find_mirror(settings)
    if mirror is None:
        return {}
    config = settings.state_dir / "terraform" / "cli.tfrc"
    config.parent.mkdir(parents=True, exist_ok=True)
    text = cli_config_text(mirror.resolve())
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    return {"TF_CLI_CONFIG_FILE": str(config)}
