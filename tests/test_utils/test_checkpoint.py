import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

import cp2_mmseg  # noqa: F401  (registers the safe globals)
from cp2_mmseg.utils import load_checkpoint_checked


class Evil:
    """Stands for any arbitrary pickled object."""

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def _mmengine_like_checkpoint(model: nn.Module) -> dict:
    hub = MessageHub('test_ckpt')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_info('iter', 3)
    return dict(
        meta=dict(epoch=0, iter=3, seed=0, dataset_meta=dict(
            classes=('a', 'b'), palette=[[0, 0, 0], [1, 1, 1]])),
        state_dict=model.state_dict(),
        message_hub=hub.state_dict(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1).state_dict(),
        param_schedulers=[dict(last_epoch=3, base_lrs=[0.1])])


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    model = nn.Conv2d(3, 4, 1)
    path = str(tmp_path / 'ok.pth')
    torch.save(_mmengine_like_checkpoint(model), path)
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    # and it still is the safe loader that read it
    ckpt2 = torch.load(path, map_location='cpu', weights_only=True)
    assert ckpt2['meta']['iter'] == 3


def test_arbitrary_object_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, payload=Evil()), path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        _load_checkpoint(path, map_location='cpu')


def test_checked_load_lists_missing_keys(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    other = nn.Sequential(nn.Conv2d(3, 4, 1))
    path = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=other.state_dict()), path)
    with pytest.raises(KeyError, match=r'1\.weight.*1\.bias|missing'):
        load_checkpoint_checked(model, path)


def test_checked_load_ignores_extra_and_loads(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 1))
    bigger = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 2, 1))
    path = str(tmp_path / 'bigger.pth')
    torch.save(dict(state_dict={'module.' + k: v
                                for k, v in bigger.state_dict().items()}),
               path)
    load_checkpoint_checked(model, path)
    assert torch.equal(model[0].weight, bigger[0].weight)


def test_checked_load_shape_mismatch(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 1))
    path = str(tmp_path / 'shape.pth')
    torch.save(dict(state_dict=nn.Sequential(nn.Conv2d(3, 5, 1)).state_dict()),
               path)
    with pytest.raises(ValueError, match='0.weight'):
        load_checkpoint_checked(model, path)


def test_getattr_restricted_to_history_buffer_methods(tmp_path):
    """The getattr stand-in refuses anything but HistoryBuffer methods."""

    class Reach:

        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    path = str(tmp_path / 'reach.pth')
    torch.save(dict(x=Reach()), path)
    with pytest.raises(pickle.UnpicklingError, match='only public'):
        _load_checkpoint(path, map_location='cpu')
