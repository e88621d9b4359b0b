"""Every setting of the platform, resolved in one place: flag > environment > default.

Commands receive a `Settings`; nothing else reads the environment for configuration.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# The repository root: terraform/, sql/, glue/, lambdas/ and flink/ are read from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("local", "dev", "prod")
# The state bucket's own Terraform root (terraform/bootstrap), applied once per account by
# `ecomm bootstrap`; not an environment a command can be pointed at.
BOOTSTRAP = "bootstrap"
DEFAULT_REGION = "eu-west-1"


def _default_state_dir() -> Path:
    return PROJECT_ROOT / ".ecomm"


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with `Settings.load()`; override fields with `with_()`."""

    env: str = "local"
    region: str = DEFAULT_REGION
    # Local state: emulator pid/port, terraform outputs of the local stack, the on-disk lake.
    state_dir: Path = field(default_factory=_default_state_dir)
    # hashicorp/aws filesystem mirror (a folder holding registry.terraform.io/...); None means
    # "look in Terraform's implied local mirror directories, then use the public registry".
    tf_plugin_dir: Path | None = None
    # Endpoint of the AWS emulator when env == "local"; read from the running stack otherwise.
    endpoint_url: str | None = None
    # Path of the Kinesis SQL connector jar packaged into the Managed Flink zip.
    flink_connector_jar: Path | None = None

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Settings from the environment, then explicit overrides (flags) on top."""
        env_values: dict[str, Any] = {}
        if v := os.environ.get("ECOMM_ENV"):
            env_values["env"] = v
        if v := os.environ.get("ECOMM_REGION") or os.environ.get("AWS_REGION"):
            env_values["region"] = v
        if v := os.environ.get("ECOMM_STATE_DIR"):
            env_values["state_dir"] = Path(v).expanduser()
        if v := os.environ.get("TF_PLUGIN_DIR"):
            env_values["tf_plugin_dir"] = Path(v).expanduser()
        if v := os.environ.get("ECOMM_ENDPOINT_URL"):
            env_values["endpoint_url"] = v
        if v := os.environ.get("ECOMM_FLINK_CONNECTOR_JAR"):
            env_values["flink_connector_jar"] = Path(v).expanduser()
        env_values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env_values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    # Derived locations -------------------------------------------------------------------
    @property
    def terraform_dir(self) -> Path:
        return PROJECT_ROOT / "terraform"

    @property
    def environment_dir(self) -> Path:
        """The Terraform root of the environment (terraform/bootstrap for `ecomm bootstrap`)."""
        if self.env == BOOTSTRAP:
            return self.terraform_dir / "bootstrap"
        return self.terraform_dir / "environments" / self.env

    @property
    def local_dir(self) -> Path:
        """State of the local stack (emulator process, terraform state, outputs)."""
        return self.state_dir / "local"

    @property
    def lake_dir(self) -> Path:
        """The local data lake; outlives `ecomm local down` on purpose."""
        return self.state_dir / "lake"

    @property
    def build_dir(self) -> Path:
        """Where the Lambda and Flink zips are built before a plan."""
        return self.state_dir / "build"

    @property
    def stack_file(self) -> Path:
        return self.local_dir / "stack.json"

    def stack(self) -> dict[str, Any] | None:
        """The local stack's record (endpoint, pid, terraform outputs), if any.

        Commands read outputs through `ecomm_cli.environments.outputs`, never from here.
        """
        try:
            return dict(json.loads(self.stack_file.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def resolved_endpoint(self) -> str | None:
        """The endpoint AWS clients should use: explicit, else the local stack's, else AWS."""
        if self.endpoint_url:
            return self.endpoint_url
        if self.env == "local":
            stack = self.stack()
            if stack:
                return str(stack["endpoint_url"])
        return None
