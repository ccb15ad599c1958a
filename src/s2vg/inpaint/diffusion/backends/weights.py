"""Find a model's weights: a local folder, or the Hugging Face cache, or (online) the hub.

Never hangs on the network: offline mode (``HF_HUB_OFFLINE``) or a hub that does not
answer within a few seconds turns a cache miss into :class:`MissingWeightsError` with
one line naming the model, where it was looked for, and what to do instead.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from s2vg.errors import MissingWeightsError

#: Seconds to wait for the hub to accept a connection before calling it unreachable.
HUB_PROBE_SECONDS = 3.0


def _offline() -> bool:
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "")
    return bool(constants.HF_HUB_OFFLINE) or value.upper() in {"1", "ON", "YES", "TRUE"}


def _hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> bool:
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _looks_like_path(model: str) -> bool:
    # A hub id is exactly "owner/name"; anything else is meant as a folder.
    return model.startswith((".", "/", "~")) or model.count("/") != 1 or "\\" in model


def resolve_model_folder(model: str | Path, subfolders: tuple[str, ...], what: str,
                         allow_patterns: list[str] | None = None, download: bool = True) -> Path:
    """A local folder holding ``subfolders`` for ``model`` (a folder path or a hub id).

    Args:
        model: a local folder in the diffusers layout, or a hub id such as
            ``cerspense/zeroscope_v2_576w``.
        subfolders: what the folder must contain (``unet``, ``vae``, ...).
        what: the model's kind for messages ("text-to-video model").
        allow_patterns: files to fetch from the hub (all when None).
        download: try the hub when the cache misses; defaults to True. False never
            touches the network.

    Raises:
        MissingWeightsError: the folder lacks parts, or the weights are neither cached nor
            reachable.
    """
    fix = "pass a local folder with --model PATH, or use --inpainter classical"
    path = Path(str(model)).expanduser()
    if path.exists() or _looks_like_path(str(model)):
        if not path.is_dir():
            raise MissingWeightsError(f"{what} folder {path} does not exist; {fix}")
        missing = [name for name in subfolders if not (path / name).is_dir()]
        if missing:
            raise MissingWeightsError(
                f"{what} folder {path} lacks {', '.join(missing)} (the diffusers layout has "
                f"{', '.join(subfolders)}); {fix}"
            )
        return path
    from huggingface_hub import constants, snapshot_download

    repo_id = str(model)
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=allow_patterns))
    except Exception as cached_error:  # not in the cache (or a broken cache entry)
        where = f"the Hugging Face cache ({constants.HF_HUB_CACHE})"
        if not download:
            raise MissingWeightsError(f"{what} {repo_id} is not in {where}; {fix}") from cached_error
        if _offline():
            raise MissingWeightsError(
                f"{what} {repo_id} is not in {where} and HF_HUB_OFFLINE is set; download it where the "
                f"network is available (hf download {repo_id}) and {fix}"
            ) from cached_error
        if not _hub_reachable():
            raise MissingWeightsError(
                f"{what} {repo_id} is not in {where} and the hub ({constants.ENDPOINT}) is unreachable; "
                f"download it where the network is available (hf download {repo_id}) and {fix}"
            ) from cached_error
    try:
        return Path(snapshot_download(repo_id, allow_patterns=allow_patterns))
    except Exception as error:
        raise MissingWeightsError(f"{what} {repo_id} could not be downloaded ({type(error).__name__}); {fix}") from error


def weights_present(model: str | Path, subfolders: tuple[str, ...], allow_patterns: list[str] | None = None) -> bool:
    """True when ``model`` is a complete local folder or fully cached; never uses the network."""
    try:
        resolve_model_folder(model, subfolders, "model", allow_patterns=allow_patterns, download=False)
    except MissingWeightsError:
        return False
    return True
