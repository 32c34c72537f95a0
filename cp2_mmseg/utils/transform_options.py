# Copyright (c) cp2-mmseg contributors. All rights reserved.
"""Set options of data transforms by transform type, not pipeline index.

``--cfg-options train_dataloader.dataset.pipeline.3.scale=...`` breaks as
soon as a pipeline gains or loses a step. ``--transform-options
RandomResize.scale="(240,180)" LoadAuxLabel.aux_root=DIR`` (tools/train.py,
tools/test.py) sets the option on every transform of that type anywhere in
the config (train / val / test pipelines, wrapped datasets, nested
``TwoViews`` / ``TestTimeAug`` pipelines), and fails when none matches.
"""
from typing import Any, Dict

from mmengine.config import Config


def _visit(node: Any, type_name: str, key: str, value: Any) -> int:
    count = 0
    if isinstance(node, dict):
        if node.get('type') == type_name and 'type' in node:
            node[key] = value
            count += 1
        for child in node.values():
            count += _visit(child, type_name, key, value)
    elif isinstance(node, (list, tuple)):
        for child in node:
            count += _visit(child, type_name, key, value)
    return count


def set_transform_options(cfg: Config, options: Dict[str, Any]) -> Dict[
        str, int]:
    """Set ``Type.key = value`` on every transform dict of that type.

    Args:
        cfg (Config): Changed in place.
        options (dict): ``{'Type.key': value}``.

    Returns:
        dict[str, int]: How many transforms each option changed.

    Raises:
        ValueError: An option is not ``Type.key``, or no dict of that
            ``type`` under a dataloader of the config has the option set.
    """
    counts = {}
    for name, value in options.items():
        type_name, sep, key = name.partition('.')
        if not sep or not type_name or not key or '.' in key:
            raise ValueError(
                f'transform option {name!r} must be Type.key (e.g. '
                'RandomResize.scale)')
        count = 0
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            if cfg.get(loader):
                count += _visit(cfg[loader], type_name, key, value)
        if count == 0:
            raise ValueError(
                f'transform option {name!r}: no transform of type '
                f'{type_name!r} in the dataloaders of the config')
        counts[name] = count
    return counts
