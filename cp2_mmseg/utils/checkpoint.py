# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Checkpoint loading under torch >= 2.6 (``weights_only=True``).

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch
2.6 that means ``weights_only=True``, and mmengine's own checkpoints are
refused ("Unsupported global: ... HistoryBuffer"). Rather than switching the
safe loader off for every file, :func:`register_safe_globals` allow-lists
exactly the classes that mmengine / mmseg / cp2-mmseg checkpoints hold, so a
checkpoint that carries any other pickled object is still refused.
"""
import argparse
import logging
import pickle
from collections import OrderedDict
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log


def _numpy_globals() -> List:
    """The numpy pieces pickled by the message hub's ``HistoryBuffer``."""
    objs: List = [np.ndarray, np.dtype]
    try:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    objs += [_reconstruct, scalar]
    # dtype classes (numpy >= 1.25 pickles e.g. numpy.dtypes.Float64DType)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        objs += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return objs


def history_buffer_getattr(obj, name: str):
    """The only ``getattr`` a checkpoint may call: a public method of
    ``HistoryBuffer``.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` etc. Allow-listing ``builtins.getattr``
    itself would let a checkpoint reach any attribute of any object; this
    stand-in is registered under that name instead and refuses the rest.

    Args:
        obj: Must be :class:`HistoryBuffer`.
        name (str): A public callable attribute of it.

    Returns:
        The method.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if (obj is HistoryBuffer and isinstance(name, str)
            and not name.startswith('_')
            and callable(getattr(HistoryBuffer, name, None))):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint calls getattr({obj!r}, {name!r}); only public '
        'HistoryBuffer methods are allowed')


def checkpoint_safe_globals() -> List:
    """Everything that mmengine training checkpoints (and the ViT
    checkpoints of DINO / MoCo v3 we quick-tune from) need beyond tensors.

    Returns:
        list: Classes and functions (or ``(function, name)`` pairs) for
        ``torch.serialization.add_safe_globals``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    # argparse.Namespace: the ``args`` of DINO / MoCo-style training
    # checkpoints (a plain attribute container, restored by __dict__ update)
    return [HistoryBuffer, OrderedDict, argparse.Namespace,
            (history_buffer_getattr, 'builtins.getattr')] + _numpy_globals()


def register_safe_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load``."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch >= 2.4
        add(checkpoint_safe_globals())


def _strip_prefix(state_dict: Dict[str, torch.Tensor],
                  prefix: str) -> Dict[str, torch.Tensor]:
    if state_dict and all(k.startswith(prefix) for k in state_dict):
        return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items())
    return state_dict


def load_checkpoint_checked(model: nn.Module,
                            filename: str,
                            map_location: str = 'cpu',
                            logger: Optional[logging.Logger] = None) -> dict:
    """Load a checkpoint into ``model``; fail when model keys are missing.

    Every key of the model must be in the checkpoint with the same shape,
    else a ``KeyError`` / ``ValueError`` lists the offending keys. Keys of
    the checkpoint that the model does not have (a training-only projection
    head, a key encoder) are ignored and listed in the log.

    Args:
        model (nn.Module): The model (unwrapped).
        filename (str): Path or URI of the checkpoint.
        map_location (str): Where to map the tensors. Defaults to 'cpu'.
        logger (logging.Logger, optional): Logger for the report.

    Returns:
        dict: The loaded checkpoint.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise TypeError(f'{filename}: no state dict in the checkpoint '
                        f'(found a {type(checkpoint).__name__})')
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = _strip_prefix(state_dict, 'module.')
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
        f'{tuple(own[k].shape)}' for k in own
        if k in state_dict and hasattr(state_dict[k], 'shape')
        and state_dict[k].shape != own[k].shape
    ]
    if missing:
        shown = '\n  '.join(missing[:50])
        more = f'\n  ... and {len(missing) - 50} more' if len(
            missing) > 50 else ''
        raise KeyError(
            f'{filename}: {len(missing)} of {len(own)} model keys are '
            f'missing from the checkpoint (is it for another config? '
            f'a CP2 pretraining checkpoint needs '
            f'tools/model_converters/cp2_to_mmseg.py first):\n  '
            f'{shown}{more}')
    if mismatched:
        raise ValueError(f'{filename}: shape mismatch for '
                         f'{len(mismatched)} keys:\n  ' +
                         '\n  '.join(mismatched[:50]))
    if unexpected:
        print_log(
            f'{filename}: ignoring {len(unexpected)} checkpoint keys the '
            f'model does not use: {unexpected[:20]}'
            + (' ...' if len(unexpected) > 20 else ''),
            logger=logger or 'current')
    model.load_state_dict(state_dict, strict=False)
    print_log(
        f'Loaded {len(own)} keys from {filename}',
        logger=logger or 'current')
    return checkpoint
