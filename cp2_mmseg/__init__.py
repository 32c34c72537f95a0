# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""cp2-mmseg: pixel-level contrastive learning for MMSegmentation 1.x.

Importing the package registers every component into mmseg's registries
(configs do it with ``custom_imports = dict(imports=['cp2_mmseg'])``) and
allow-lists mmengine's checkpoint contents for torch's safe loader.
"""
from .utils import register_safe_globals
from .version import __version__

register_safe_globals()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
