"""The CPU stand-in for NVlabs' reference ``upfirdn2d``: same outputs and gradients as the definition."""

from __future__ import annotations

import sys
import types

import pytest
import torch
import torch.nn.functional as F

from latentlab.generators._stylegan_cpu_ops import fast_cpu_upfirdn2d, upfirdn2d_matmul


def _by_definition(
    x: torch.Tensor, f: torch.Tensor, up: int, down: int, pad: list[int], flip: bool, gain: float
) -> torch.Tensor:
    """Zero-insert ``up``, pad (negative = crop), correlate with the separable filter, keep every ``down``-th."""
    n, c, h, w = x.shape
    big = torch.zeros(n, c, h * up, w * up, dtype=x.dtype)
    big[:, :, ::up, ::up] = x
    x0, x1, y0, y1 = pad
    big = F.pad(big, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    big = big[:, :, max(-y0, 0) : big.shape[2] - max(-y1, 0), max(-x0, 0) : big.shape[3] - max(-x1, 0)]
    taps = f * gain**0.5
    taps = taps if flip else taps.flip(0)
    kernel = torch.outer(taps, taps).expand(c, 1, -1, -1)
    return F.conv2d(big, kernel, groups=c)[:, :, ::down, ::down]


CASES = [  # (up, down, padding, flip, gain) as StyleGAN3's filtered_lrelu and StyleGAN2's resampling use them
    (2, 1, [7, 6, 7, 6], False, 4.0),
    (1, 2, [0, 0, 0, 0], False, 1.0),
    (4, 1, [13, 12, 13, 12], True, 16.0),
    (1, 1, [-2, 3, 1, -1], False, 1.0),
    (2, 2, [3, 2, 3, 2], False, 4.0),
]


@pytest.mark.parametrize(("up", "down", "pad", "flip", "gain"), CASES)
def test_matches_the_definition_with_gradients(up: int, down: int, pad: list[int], flip: bool, gain: float) -> None:
    g = torch.Generator().manual_seed(up * 10 + down)
    x = torch.randn(2, 3, 11, 9, generator=g, requires_grad=True)
    f = torch.randn(6 * up, generator=g)
    want = _by_definition(x, f, up, down, pad, flip, gain)
    got = upfirdn2d_matmul(x, f, up=up, down=down, padding=pad, flip_filter=flip, gain=gain)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6 * float(want.detach().abs().max()))
    weights = torch.randn(want.shape, generator=g)
    (gx_want,) = torch.autograd.grad((want * weights).sum(), x)
    (gx_got,) = torch.autograd.grad((got * weights).sum(), x)
    scale = float(gx_want.abs().max())  # float32 rounding of sums taken in another order
    torch.testing.assert_close(gx_got, gx_want, rtol=1e-5, atol=1e-6 * scale)
    # negative control: a shifted padding gives a different answer, so the comparison can fail
    moved = upfirdn2d_matmul(
        x, f, up=up, down=down, padding=[pad[0] + 1, pad[1] - 1, pad[2], pad[3]], flip_filter=flip, gain=gain
    )
    assert not torch.allclose(moved, want, atol=1e-3)


def test_context_swaps_the_nvlabs_reference_and_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def reference(x: torch.Tensor, f: torch.Tensor, **kwargs: object) -> torch.Tensor:
        calls.append("reference")
        return x

    fake = types.ModuleType("torch_utils.ops.upfirdn2d")
    fake._upfirdn2d_ref = reference  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch_utils.ops.upfirdn2d", fake)
    x, f1, f2 = torch.randn(1, 2, 8, 8), torch.ones(4) / 4, torch.ones(4, 4) / 16
    with fast_cpu_upfirdn2d():
        out = fake._upfirdn2d_ref(x, f1, up=1, down=2)
        assert out.shape == (1, 2, 3, 3) and calls == []  # 1-D filter on the CPU: matrix products
        fake._upfirdn2d_ref(x, f2)
        assert calls == ["reference"]  # 2-D filter: NVlabs' own code
    assert fake._upfirdn2d_ref is reference


def test_context_without_nvlabs_code_does_nothing() -> None:
    assert "torch_utils.ops.upfirdn2d" not in sys.modules
    with fast_cpu_upfirdn2d():
        assert "torch_utils.ops.upfirdn2d" not in sys.modules
