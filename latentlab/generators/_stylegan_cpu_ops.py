"""A faster CPU stand-in for NVlabs' reference ``upfirdn2d`` (StyleGAN2-ADA / StyleGAN3 ``torch_utils``).

On the CPU NVlabs' code has no compiled kernels: every ``filtered_lrelu`` (StyleGAN3 runs one
per layer) calls ``_upfirdn2d_ref`` twice, which upsamples by inserting zeros, pads, runs two
depthwise ``conv2d`` passes over the padded buffer and then throws away all but every
``down``-th output pixel. Those depthwise convolutions, their backward passes and the padding
copies are most of the time of a StyleGAN3 inversion on the CPU.

With a separable (1-D) filter the whole op along one axis is a fixed linear map, a small banded
matrix ``M`` (input length x output length) holding the filter taps where the zero-insertion,
padding, flip and decimation put them. ``upfirdn2d(x) = My.T @ x @ Mx``: two matrix products
(BLAS, forward and backward) that skip the discarded outputs. Same sums of the same products,
so results equal the reference's to float rounding. 2-D (radial) filters keep the reference.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import torch

_MODULE = "torch_utils.ops.upfirdn2d"


def axis_matrix(f: torch.Tensor, length: int, up: int, down: int, pad0: int, pad1: int) -> torch.Tensor:
    """The ``(length, out_length)`` matrix of a 1-D upfirdn: zero-insert, pad, correlate with ``f``, decimate.

    ``f`` is applied as a cross-correlation (as ``conv2d`` does), so flip it first for a convolution.

    Example:
        >>> m = axis_matrix(torch.tensor([1.0, 2.0]), length=3, up=2, down=1, pad0=1, pad1=0)
        >>> m.shape, (torch.tensor([[1.0, 10.0, 100.0]]) @ m).tolist()
        (torch.Size([3, 6]), [[2.0, 1.0, 20.0, 10.0, 200.0, 100.0]])
    """
    taps = f.shape[0]
    padded = length * up + pad0 + pad1
    out_length = (padded - taps) // down + 1
    i = torch.arange(length, device=f.device)[:, None]
    o = torch.arange(out_length, device=f.device)[None, :]
    k = i * up + pad0 - o * down  # the tap that meets input i at output o
    inside = (k >= 0) & (k < taps)
    return torch.where(inside, f[k.clamp(0, taps - 1)], torch.zeros((), dtype=f.dtype, device=f.device))


def upfirdn2d_matmul(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: Any = 1,
    down: Any = 1,
    padding: Any = 0,
    flip_filter: bool = False,
    gain: float = 1,
) -> torch.Tensor:
    """NVlabs' ``_upfirdn2d_ref`` (same arguments) as two matrix products, for 1-D filters.

    Args:
        x: ``(N, C, H, W)``.
        f: 1-D float32 filter (2-D filters are not handled here).
        up, down: int or ``[x, y]``; padding: int, ``[x, y]`` or ``[x0, x1, y0, y1]``.
        flip_filter, gain: as NVlabs' ``upfirdn2d``.

    Returns:
        ``(N, C, H_out, W_out)``, equal to ``_upfirdn2d_ref`` to float rounding.
    """
    assert f is not None and f.ndim == 1 and x.ndim == 4
    upx, upy = (up, up) if isinstance(up, int) else up
    downx, downy = (down, down) if isinstance(down, int) else down
    if isinstance(padding, int):
        padding = [padding, padding]
    if len(padding) == 2:
        padding = [padding[0], padding[0], padding[1], padding[1]]
    padx0, padx1, pady0, pady1 = padding
    taps = (f * (gain**0.5)).to(x.dtype)
    if not flip_filter:
        taps = taps.flip(0)
    mx = axis_matrix(taps, x.shape[3], upx, downx, padx0, padx1)
    my = axis_matrix(taps, x.shape[2], upy, downy, pady0, pady1)
    return torch.matmul(my.T, torch.matmul(x, mx))


def _fast_or_reference(reference: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    def upfirdn2d_ref(
        x: torch.Tensor,
        f: torch.Tensor | None,
        up: Any = 1,
        down: Any = 1,
        padding: Any = 0,
        flip_filter: bool = False,
        gain: float = 1,
    ) -> torch.Tensor:
        if x.device.type == "cpu" and f is not None and f.ndim == 1 and x.ndim == 4:
            return upfirdn2d_matmul(x, f, up=up, down=down, padding=padding, flip_filter=flip_filter, gain=gain)
        return reference(x, f, up=up, down=down, padding=padding, flip_filter=flip_filter, gain=gain)

    upfirdn2d_ref.latentlab_reference = reference  # type: ignore[attr-defined]
    return upfirdn2d_ref


@contextlib.contextmanager
def fast_cpu_upfirdn2d() -> Iterator[None]:
    """While inside: NVlabs' ``_upfirdn2d_ref`` (if its ``torch_utils`` is loaded) runs as matrix products on the CPU.

    Does nothing when NVlabs' code is not imported (e.g. networks with the interface but not the code).
    """
    module = sys.modules.get(_MODULE)
    reference = getattr(module, "_upfirdn2d_ref", None)
    if module is None or reference is None or hasattr(reference, "latentlab_reference"):
        yield
        return
    module._upfirdn2d_ref = _fast_or_reference(reference)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        module._upfirdn2d_ref = reference  # type: ignore[attr-defined]
