# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Runtime glue shared by ``tools/train.py`` and ``tools/test.py``."""
import os
from typing import Any

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log


def _replace_syncbn(node: Any) -> int:
    """Turn every ``type='SyncBN'`` in a config tree into ``'BN'``.

    Args:
        node: A config node (dict, list or leaf).

    Returns:
        int: How many entries were replaced.
    """
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _replace_syncbn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _replace_syncbn(value)
    return count


def adapt_cfg_to_device(cfg: Config, launcher: str = 'none') -> Config:
    """Make a GPU config run on the CPU when no GPU is visible.

    With a distributed launcher and no CUDA device, NCCL cannot work: the
    process-group backend becomes gloo, DDP gets ``device_ids=None`` (CPU
    modules) and ``SyncBN`` (which needs a GPU in PyTorch) becomes
    per-process ``BN``. The changes are logged. With CUDA the
    config is left as it is.

    Args:
        cfg (Config): The config, changed in place.
        launcher (str): The job launcher ('none', 'pytorch', 'slurm', 'mpi').

    Returns:
        Config: ``cfg``.
    """
    if torch.cuda.is_available() or launcher == 'none':
        # One process: mmengine reverts SyncBN to BN itself.
        return cfg
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    if dist_cfg.get('backend', 'nccl') != 'gloo':
        print_log(
            f'No CUDA device: distributed backend '
            f'{dist_cfg.get("backend", "nccl")!r} -> gloo',
            logger='current')
        dist_cfg['backend'] = 'gloo'
    # mmengine gives DDP device_ids=[LOCAL_RANK], valid for GPU modules
    # only; a CPU module needs None (cfg values win over mmengine's).
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    replaced = _replace_syncbn(cfg._cfg_dict)
    if replaced:
        print_log(
            f'No CUDA device: {replaced} SyncBN config entries -> BN '
            '(batch statistics are per process on the CPU)',
            logger='current')
    return cfg


def init_cpu_process_group(cfg: Config, launcher: str) -> None:
    """Start the gloo process group for a CPU ``--launcher pytorch`` run.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device``, which fails on
    a machine without a GPU, so on the CPU the group is started here from
    torchrun's environment and mmengine finds it already initialised.

    Args:
        cfg (Config): The (adapted) config.
        launcher (str): The job launcher.
    """
    import torch.distributed as dist
    if (launcher != 'pytorch' or torch.cuda.is_available()
            or dist.is_initialized()):
        return
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    kwargs = {}
    if timeout is not None:
        import datetime
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    dist.init_process_group(backend='gloo', **kwargs)
    print_log(
        f'gloo process group: rank {dist.get_rank()} of '
        f'{dist.get_world_size()} (LOCAL_RANK '
        f'{os.environ.get("LOCAL_RANK")})',
        logger='current')


def build_runner(cfg: Config):
    """Build the runner, turning registry misses into an actionable error.

    Args:
        cfg (Config): The full config.

    Returns:
        mmengine.runner.Runner: The runner.
    """
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    try:
        if 'runner_type' not in cfg:
            return Runner.from_cfg(cfg)
        return RUNNERS.build(cfg)
    except KeyError as err:
        msg = str(err)
        if 'registry' in msg and 'is not in the' in msg:
            raise KeyError(
                f'{msg}\n  If this type comes from cp2-mmseg, install the '
                'package (`pip install -e .` in the repository) and make '
                'sure the config has `custom_imports = dict(imports='
                "['cp2_mmseg'], allow_failed_imports=False)`.") from err
        raise
