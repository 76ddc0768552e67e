"""What heatwidget's browser tests share: servers, the Chromium page, the widget in a page, and a
client of a notebook's kernel. Fixtures hand these out (tests/e2e/conftest.py); tests import the
types and helpers from here.

- ``settings``   paths, Chromium's flags, time bounds, ``require_e2e_tools``
- ``processes``  bounded waits (``wait_until``), ports, server processes and their logs
- ``servers``    JupyterLab and Voila on 127.0.0.1 with temporary Jupyter folders
- ``browser``    ``Web``: a page whose requests outside 127.0.0.1 are aborted and recorded
- ``heatview``   ``HeatView``: one rendered map's attributes, view and canvas pixels
- ``lab``        ``LabUI``: open and run notebooks in JupyterLab and Notebook 7
- ``kernel``     ``KernelClient``: run code in a notebook's kernel and read values back
- ``pictures``   PNGs a view sends back, and whether they show the heat
- ``hostile``    the hostile-input tests' map notebook, row waits and status-badge recorder
"""

from __future__ import annotations

from .browser import BlockedRequest, Web
from .heatview import HeatView
from .kernel import KernelClient, KernelError
from .lab import PROJECT_CODE, LabUI, OpenNotebook, write_notebook
from .processes import (
    free_port,
    kill_processes_mentioning,
    port_open,
    safe_name,
    spawn_logged,
    stop_process,
    tail,
    wait_until,
)
from .servers import (
    LabServer,
    VoilaServer,
    jupyter_env,
    start_jupyter_lab,
    stop_jupyter_lab,
    write_lab_settings,
)
from .settings import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LAB_LOAD_TIMEOUT,
    LOCAL_HOSTS,
    NOTEBOOK_RUN_TIMEOUT,
    NOTEBOOKS,
    ROOT,
    SERVER_START_TIMEOUT,
    SYNC_TIMEOUT,
    VIEWPORT,
    WIDGET_READY_TIMEOUT,
    require_e2e_tools,
)

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LAB_LOAD_TIMEOUT",
    "LOCAL_HOSTS",
    "NOTEBOOKS",
    "NOTEBOOK_RUN_TIMEOUT",
    "PROJECT_CODE",
    "ROOT",
    "SERVER_START_TIMEOUT",
    "SYNC_TIMEOUT",
    "VIEWPORT",
    "WIDGET_READY_TIMEOUT",
    "BlockedRequest",
    "HeatView",
    "KernelClient",
    "KernelError",
    "LabServer",
    "LabUI",
    "OpenNotebook",
    "VoilaServer",
    "Web",
    "free_port",
    "jupyter_env",
    "kill_processes_mentioning",
    "port_open",
    "require_e2e_tools",
    "safe_name",
    "spawn_logged",
    "start_jupyter_lab",
    "stop_jupyter_lab",
    "stop_process",
    "tail",
    "wait_until",
    "write_lab_settings",
    "write_notebook",
]
