"""The Jupyter kernel analyses run in: one that starts this very interpreter."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

__all__ = ["kernel_name", "install_kernel_spec", "FALLBACK_KERNEL"]


#: Kernel spec name installed into ``sys.prefix`` when ``python3`` is some other interpreter.
FALLBACK_KERNEL = "crm-workbench"


@lru_cache(maxsize=1)
def kernel_name() -> str:
    """Name of a kernel spec that starts this very interpreter (``sys.executable``).

    ``python3`` when it does: its ``argv[0]`` is ``python``/``python3`` (jupyter_client then
    starts ``sys.executable``) or this interpreter's path. Otherwise a ``crm-workbench`` spec
    pointing at ``sys.executable`` is written into ``<sys.prefix>/share/jupyter/kernels`` (the
    user's Jupyter folder when that is not writable) and used.

    Returns
    -------
    str
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        if _starts_this_python(manager.get_kernel_spec("python3").argv):
            return "python3"
    except NoSuchKernel:
        pass
    try:
        spec = manager.get_kernel_spec(FALLBACK_KERNEL)
        if _starts_this_python(spec.argv):
            return FALLBACK_KERNEL
    except NoSuchKernel:
        pass
    try:
        install_kernel_spec(Path(sys.prefix))
    except OSError:
        from jupyter_core.paths import jupyter_data_dir

        install_kernel_spec(Path(jupyter_data_dir()), data_dir=True)
    return FALLBACK_KERNEL


def _starts_this_python(argv: Sequence[str]) -> bool:
    if not argv:
        return False
    exe = argv[0]
    short = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return exe in short or os.path.abspath(exe) == os.path.abspath(sys.executable)


def install_kernel_spec(prefix: Path, *, data_dir: bool = False) -> Path:
    """Write the ``crm-workbench`` kernel spec (``sys.executable -m ipykernel_launcher``).

    Parameters
    ----------
    prefix : Path
        Environment prefix (spec goes to ``share/jupyter/kernels``), or a Jupyter data folder
        when ``data_dir`` (spec goes to ``kernels``).
    data_dir : bool, default False
        ``prefix`` is a Jupyter data folder.

    Returns
    -------
    Path
        The spec folder.
    """
    folder = prefix / ("kernels" if data_dir else "share/jupyter/kernels") / FALLBACK_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (crm-workbench)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder
