import pytest
import torch

from cp2_mmseg.models.utils import ProjectionHead


def test_convmlp_is_the_official_head_and_unit_norm():
    """convmlp: 1x1 conv (in -> in), BN, ReLU, 1x1 conv (in -> 256), then
    L2 normalisation over channels at every pixel (ContrastiveSeg)."""
    torch.manual_seed(0)
    head = ProjectionHead(in_channels=6, channels=5).eval()
    x = torch.randn(2, 6, 3, 4) * 7
    out = head(x)
    assert out.shape == (2, 5, 3, 4)
    assert torch.allclose(out.norm(dim=1), torch.ones(2, 3, 4), atol=1e-5)
    conv1, conv2 = head.proj[0].conv, head.proj[1]
    assert (conv1.in_channels, conv1.out_channels) == (6, 6)
    assert isinstance(head.proj[0].bn, torch.nn.BatchNorm2d)
    raw = conv2(torch.relu(head.proj[0].bn(conv1(x))))
    assert torch.allclose(out, torch.nn.functional.normalize(raw, dim=1),
                          atol=1e-6)


def test_linear_and_hidden_channels():
    head = ProjectionHead(in_channels=6, channels=5, proj_type='linear')
    assert torch.allclose(head(torch.randn(1, 6, 2, 2)).norm(dim=1),
                          torch.ones(1, 2, 2), atol=1e-5)
    zhao = ProjectionHead(in_channels=6, channels=5, hidden_channels=3)
    assert zhao.proj[0].conv.out_channels == 3
    with pytest.raises(ValueError, match='proj_type'):
        ProjectionHead(in_channels=6, proj_type='mlp3')
