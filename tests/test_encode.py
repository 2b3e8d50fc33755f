"""ll.encode on the bundled digits model and tiny synthetic generators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import latentlab as ll
from latentlab.encoding import EncodeResult, _data_loss, encode
from latentlab.errors import CapabilityError, InputImageError, InvalidValueError, ShapeError
from latentlab.generators.base import Generator
from latentlab.spaces import LatentSpace

from ._helpers import raises as _raises


@pytest.fixture(scope="module")
def gen():
    return ll.load("digits")


@pytest.fixture(scope="module")
def targets(gen):
    """Eight decoded digits ``(8, 3, 32, 32)``: images the model can make exactly (for the mechanics: masks,
    batches, inputs, Ctrl-C). How well encoding works is measured on real held-out digits (``real_digits``)."""
    return gen.decode(gen.sample(8, seed=1))


def _psnr(mse: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(1 / mse)


def _mean_image_psnr(images: torch.Tensor) -> torch.Tensor:
    """The baseline: predict every image by the mean image of the batch."""
    return _psnr(((images - images.mean(0, keepdim=True)) ** 2).flatten(1).mean(1))


# -- generators that lack something ---------------------------------------------------------------


class Wrapped(Generator):
    """The digits model behind another Generator, with knobs to remove capabilities."""

    def __init__(
        self, base: Generator, *, encoder: bool = True, gradients: str = "yes", interrupt_after: int | None = None
    ) -> None:
        super().__init__(base.spaces, base.image_size)
        self.base, self.gradients, self.interrupt_after, self.calls = base, gradients, interrupt_after, 0
        self.name = "wrapped"
        self.capabilities = frozenset({"encode"} if encoder else set())

    def _decode(self, latents, space):
        return self.base._decode(latents, space)

    def _encode(self, images, space):
        return self.base._encode(images, space)

    def decode_differentiable(self, latents, space=None):
        self.calls += 1
        if self.calls == self.interrupt_after:  # one press of Ctrl-C
            raise KeyboardInterrupt
        if self.gradients == "raises":
            raise NotImplementedError("this adapter renders with a non-differentiable library")
        if self.gradients == "detached":
            return self.decode(latents.detach(), space)
        return super().decode_differentiable(latents, space)


class TinyStyle(Generator):
    """A StyleGAN-shaped toy: z (4,) normal prior -> w+ (2, 4) without prior -> 8x8 images."""

    capabilities = frozenset({"map"})

    def __init__(self) -> None:
        spaces = [LatentSpace("z", (4,), "normal", model="tiny"), LatentSpace("w+", (2, 4), "none", model="tiny")]
        super().__init__(spaces, (8, 8))
        self.name = "tiny"
        g = torch.Generator().manual_seed(0)
        self.mapping = torch.randn(4, 4, generator=g) * 0.5
        self.offset = torch.tensor([1.0, -1.0, 0.5, 2.0])
        self.synthesis = torch.randn(8, 64, generator=g) * 0.4

    def _map(self, latents, src, dst):
        w = torch.tanh(latents @ self.mapping) + self.offset
        return w[:, None, :].expand(-1, 2, -1) if dst.name == "w+" else w

    def _decode(self, latents, space):
        w = latents if space.name == "w+" else self._map(latents, space, self.space("w+"))
        x = torch.sigmoid(w.flatten(1) @ self.synthesis - 1.0)
        return x.view(-1, 1, 8, 8).expand(-1, 3, -1, -1)


# -- round trips --------------------------------------------------------------------------------


def test_hybrid_recovers_images_the_model_made_almost_exactly(gen, targets):
    """Precision of the optimiser: a decoded image has an exact latent, so the round trip reaches > 35 dB."""
    result = encode(gen, targets, "hybrid", steps=100, progress=False)
    assert isinstance(result, EncodeResult) and result.method == "hybrid"
    assert tuple(result.latents.shape) == (8, 16) and tuple(result.loss.shape) == (8,)
    baseline = _mean_image_psnr(targets)
    assert float(result.psnr.min()) > 35.0 > float(baseline.max()) + 15
    torch.testing.assert_close(result.psnr, _psnr(((gen.decode(result.latents) - targets) ** 2).flatten(1).mean(1)))


@pytest.fixture(scope="module")
def real_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """16 held-out real digits (the test split of scripts/train_digits.py) at 32 px; the train split's mean image."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = 1 - data.images.astype(np.float32) / 16
    x_tr, x_te = train_test_split(x, test_size=0.2, stratify=data.target, random_state=0)

    def big(a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(a)[:, None]
        return torch.nn.functional.interpolate(t, size=32, mode="bilinear").clamp(0, 1).expand(-1, 3, -1, -1)

    return big(x_te[:16]).contiguous(), big(x_tr.mean(0, keepdims=True))


def test_real_heldout_digits_encode_better_than_the_mean_image(gen, real_digits):
    """Real images, never trained on: encoder MSE 0.32x the train mean image's, hybrid 0.26x (bar 0.45x);
    the control, each image decoded from another image's latent, scores worse than the mean image."""
    images, mean_image = real_digits
    mse = lambda z: ((gen.decode(z) - images) ** 2).flatten(1).mean(1)  # noqa: E731
    baseline = ((mean_image - images) ** 2).flatten(1).mean(1)
    enc = encode(gen, images, "encoder", progress=False)
    hyb = encode(gen, images, "hybrid", steps=200, progress=False)
    assert float(mse(enc.latents).mean()) <= 0.45 * float(baseline.mean())
    assert float(mse(hyb.latents).mean()) < float(mse(enc.latents).mean())  # optimising from the encoder helps
    assert bool((mse(hyb.latents) < baseline).all())
    assert float(mse(hyb.latents.roll(1, 0)).mean()) > float(baseline.mean())  # negative control


def test_optimize_and_encoder_on_real_heldout_digits(gen, real_digits):
    """Optimising from the mean latent (200 steps) gets 0.28x the train mean image's MSE on 16 real held-out
    digits (bar 0.32x), every image below the mean image (worst 0.56x); its start, the decoded mean latent, is
    1.54x the mean image (so the bar needs the optimisation), and another image's latent (control) 2.0x."""
    images, mean_image = real_digits
    mse = lambda z: ((gen.decode(z) - images) ** 2).flatten(1).mean(1)  # noqa: E731
    baseline = ((mean_image - images) ** 2).flatten(1).mean(1)
    opt = encode(gen, images, "optimize", steps=200, progress=False)
    torch.testing.assert_close(opt.mse, mse(opt.latents))
    assert float(opt.mse.mean()) <= 0.32 * float(baseline.mean())
    assert bool((opt.mse < baseline).all())
    start = mse(torch.zeros_like(opt.latents))  # where it started, the prior's mean: worse than the mean image
    assert float(start.mean()) > float(baseline.mean())
    assert float(mse(opt.latents.roll(1, 0)).mean()) > 1.5 * float(baseline.mean())  # negative control
    enc = encode(gen, images, "encoder", progress=False)
    assert enc.steps == 0 and tuple(enc.history.shape) == (1, 16)
    assert float(enc.mse.mean()) > float(opt.mse.mean())  # one forward pass is rougher than 200 steps


def test_hybrid_reaches_the_optimize_loss_in_far_fewer_steps(gen, real_digits):
    """On 16 real held-out digits the hybrid's mean loss reaches optimize's final (300 steps) mean loss at step 57
    (bar 100), and 15 of the 16 images reach their own optimize loss (bar 12); optimize itself is still above it
    at step 100 (the control: the head start is the encoder's)."""
    images, _ = real_digits
    opt = encode(gen, images, "optimize", steps=300, tol=None, progress=False)
    hyb = encode(gen, images, "hybrid", steps=300, tol=None, progress=False)
    mean_curve = hyb.history.mean(1)
    first = int((mean_curve <= opt.loss.mean()).float().argmax())
    assert bool(mean_curve[first] <= opt.loss.mean())
    assert first <= 100, f"hybrid needed {first} steps for optimize's final mean loss"
    assert float(opt.history[100].mean()) > float(opt.loss.mean())  # control: optimize has not got there by then
    assert int((hyb.steps_to(opt.loss) >= 0).sum()) >= 12


def test_auto_picks_hybrid_and_the_result_never_gets_worse(gen, targets):
    r = encode(gen, targets[:3], steps=20, progress=False)
    assert r.method == "hybrid"
    torch.testing.assert_close(r.history[0], encode(gen, targets[:3], "encoder", progress=False).loss)
    assert bool((r.loss <= r.history[0]).all())
    assert bool((r.loss <= torch.nan_to_num(r.history, nan=float("inf")).min(0).values + 1e-9).all())


def test_same_call_same_latents_and_batches_do_not_interact(gen, targets):
    a = encode(gen, targets, "optimize", steps=40, tol=None, progress=False)
    b = encode(gen, targets, "optimize", steps=40, tol=None, progress=False, batch_size=3)
    torch.testing.assert_close(a.latents, b.latents, atol=1e-5, rtol=1e-4)
    assert tuple(a.history.shape) == tuple(b.history.shape) == (41, 8)


def test_early_stopping_pads_history_with_nan(gen, targets):
    r = encode(gen, targets, "hybrid", steps=400, tol=0.05, progress=False, batch_size=4)
    assert r.steps < 400
    assert tuple(r.history.shape) == (r.steps + 1, 8)
    assert not bool(torch.isnan(r.history[0]).any())


def test_wplus_is_the_default_space_for_optimisation_with_a_mean_latent_start():
    tiny = TinyStyle()
    w_true = tiny.map(tiny.sample(4, seed=3), "z", "w+")
    target = tiny.decode(w_true, space="w+")
    r = encode(tiny, target, steps=300, progress=False, regularize=0)
    assert r.method == "optimize" and r.space.name == "w+" and tuple(r.latents.shape) == (4, 2, 4)
    mean_w = tiny.map(tiny.sample(2048, seed=0), "z", "w+").mean(0)
    torch.testing.assert_close(r.history[0], _data_loss(tiny.decode(mean_w.expand(4, 2, 4), space="w+"), target, None))
    start_loss = ((tiny.decode(mean_w.expand(4, 2, 4), space="w+") - target) ** 2).mean()
    assert float(r.mse.mean()) < 0.05 * float(start_loss)
    z_result = encode(tiny, target, space="z", steps=50, progress=False)
    assert z_result.space.name == "z" and tuple(z_result.latents.shape) == (4, 4)


# -- masks ---------------------------------------------------------------------------------------


def test_masked_out_pixels_change_nothing(gen, targets):
    mask = torch.zeros(32, 32)
    mask[:, :16] = 1  # observe the left half only
    scribbled = targets.clone()
    scribbled[..., 16:] = torch.rand(8, 3, 32, 16, generator=torch.Generator().manual_seed(0))
    for method in ("optimize", "hybrid", "encoder"):
        a = encode(gen, targets, method, steps=30, mask=mask, progress=False)
        b = encode(gen, scribbled, method, steps=30, mask=mask, progress=False)
        torch.testing.assert_close(a.latents, b.latents, msg=method)
        torch.testing.assert_close(a.loss, b.loss, msg=method)
    a = encode(gen, targets, "optimize", steps=30, mask=mask, progress=False)
    unmasked = encode(gen, scribbled, "optimize", steps=30, progress=False)
    assert not torch.allclose(a.latents, unmasked.latents, atol=1e-3)


def test_mask_shapes_are_equivalent(gen, targets):
    half = torch.zeros(32, 32, dtype=torch.bool)
    half[:16] = True
    kw = dict(method="optimize", steps=5, progress=False)
    ref = encode(gen, targets[:2], mask=half, **kw).latents
    for m in (half.numpy(), half[None].expand(2, -1, -1), half[None, None], half[None, None].expand(2, 3, -1, -1)):
        torch.testing.assert_close(encode(gen, targets[:2], mask=m, **kw).latents, ref)


def test_a_mask_at_the_input_size_is_resized_with_the_images(gen, targets):
    big = torch.nn.functional.interpolate(targets[:2], size=(64, 64), mode="nearest")
    mask = torch.zeros(64, 64)
    mask[:32] = 1
    r = encode(gen, big, "optimize", steps=5, mask=mask, progress=False)
    assert tuple(r.mask.shape) == (2, 1, 32, 32)
    assert float(r.mask[0, 0, :15].min()) == 1.0 and float(r.mask[0, 0, 17:].max()) == 0.0


def test_a_generator_can_translate_its_own_masks(gen, targets):
    class RowMasks(Wrapped):
        def pixel_mask(self, rows):  # e.g. glyphs: observed characters -> observed pixels
            m = torch.zeros(len(rows), 1, 32, 32)
            for i, r in enumerate(rows):
                m[i, :, r * 8 : (r + 1) * 8] = 1
            return m

    g = RowMasks(gen)
    r = encode(g, targets[:2], "optimize", steps=3, mask=[0, 3], progress=False)
    assert float(r.mask[0, 0, :8].min()) == 1 and float(r.mask[0, 0, 8:].max()) == 0
    assert float(r.mask[1, 0, 24:].min()) == 1


# -- inputs --------------------------------------------------------------------------------------


def test_every_input_kind_encodes_like_the_tensor(gen, targets, tmp_path):
    ref = encode(gen, targets[:2], "encoder", progress=False).latents
    pils = ll.to_pil(targets[:2])
    pils[0].save(tmp_path / "a.png")
    pils[1].save(tmp_path / "b.png")
    uint8 = [np.asarray(p) for p in pils]
    sources = {
        "PIL": pils,
        "paths": [tmp_path / "a.png", str(tmp_path / "b.png")],
        "folder": tmp_path,
        "numpy HxWx3": uint8,
        "numpy HxW gray": [a[..., 0] for a in uint8],
        "RGBA": [p.convert("RGBA") for p in pils],
        "big numpy, resized": [np.kron(a, np.ones((3, 3, 1), np.uint8)) for a in uint8],
    }
    for name, src in sources.items():
        out = encode(gen, src, "encoder", progress=False).latents
        # the same pixels give the same latents up to the uint8 rounding of the saved images (5e-4);
        # resizing a 3x-enlarged copy back adds a little more (0.018)
        atol = 0.03 if "resized" in name else 2e-3
        torch.testing.assert_close(out, ref, atol=atol, rtol=0, msg=name)


def test_transparent_ink_is_put_on_the_models_paper(gen, targets):
    ink = 1 - targets[:2, :1]  # alpha = darkness of the ink
    rgba = torch.cat([torch.zeros(2, 3, 32, 32), ink], 1)  # black ink on transparent
    r = encode(gen, rgba, "encoder", progress=False)
    torch.testing.assert_close(r.images, targets[:2], atol=1e-5, rtol=0)


# -- progress and Ctrl-C ------------------------------------------------------------------------


def test_progress_bar_is_shown(gen, targets, capsys):
    encode(gen, targets[:2], "hybrid", steps=5, progress=True)
    assert "encode (hybrid)" in capsys.readouterr().err


def test_ctrl_c_returns_the_best_latents_so_far(gen, targets):
    g = Wrapped(gen, interrupt_after=12)  # 1 gradient probe + ~10 steps, then "Ctrl-C"
    r = encode(g, targets, "hybrid", steps=100, batch_size=4, progress=False)
    assert r.interrupted and "interrupted" in repr(r)
    assert tuple(r.latents.shape) == (8, 16) and 0 < r.steps < 100
    encoder = encode(gen, targets, "encoder", progress=False)
    assert bool((r.loss[:4] <= encoder.loss[:4]).all()) and bool((r.loss[:4] < encoder.loss[:4]).any())
    torch.testing.assert_close(r.latents[4:], encoder.latents[4:])  # the unstarted batch keeps the encoder's


# -- capabilities ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["raises", "detached"])
def test_a_generator_without_gradients_is_a_clear_error(gen, targets, how):
    g = Wrapped(gen, gradients=how)
    text = _raises(CapabilityError, "no gradients", encode, g, targets[:2], "optimize", progress=False)
    assert ("NotImplementedError" if how == "raises" else "grad_fn") in text
    assert encode(g, targets[:2], progress=False).method == "encoder"  # auto falls back


def test_a_generator_without_an_encoder(gen, targets):
    g = Wrapped(gen, encoder=False)
    _raises(CapabilityError, "no encoder", encode, g, targets[:2], "encoder", progress=False)
    assert encode(g, targets[:2], steps=3, progress=False).method == "optimize"
    _raises(CapabilityError, "no encoder", encode, g, targets[:2], "hybrid", progress=False)


# -- errors --------------------------------------------------------------------------------------


def test_bad_arguments(gen, targets):
    x = targets[:1]
    _raises(InvalidValueError, "'fast'", encode, gen, x, "fast")
    _raises(InvalidValueError, "steps", encode, gen, x, steps=0)
    _raises(InvalidValueError, "lr", encode, gen, x, lr=-1.0)
    _raises(InvalidValueError, "batch_size", encode, gen, x, batch_size=0)
    _raises(InvalidValueError, "tol", encode, gen, x, tol=-1.0)
    _raises(InvalidValueError, "regularize", encode, gen, x, regularize=float("nan"))
    _raises(ll.UnknownSpaceError, "'w'", encode, gen, x, space="w")


def test_bad_images(gen):
    _raises(InvalidValueError, "NaN", encode, gen, torch.full((1, 3, 32, 32), float("nan")), progress=False)
    _raises(InputImageError, "no images", encode, gen, [], progress=False)
    _raises(InputImageError, "(32, 32, 7)", encode, gen, np.zeros((32, 32, 7), np.uint8), progress=False)
    _raises(InputImageError, "does not exist", encode, gen, "no/such/file.png", progress=False)


def test_bad_masks(gen, targets):
    x = targets[:2]
    _raises(ShapeError, "(2, 2, 32, 32)", encode, gen, x, mask=torch.ones(2, 2, 32, 32), progress=False)
    _raises(ShapeError, "3 masks", encode, gen, x, mask=torch.ones(3, 32, 32), progress=False)
    _raises(ShapeError, "neither", encode, gen, x, mask=torch.ones(16, 16), progress=False)
    _raises(InvalidValueError, "[0, 1]", encode, gen, x, mask=torch.full((32, 32), 2.0), progress=False)
    _raises(InvalidValueError, "NaN", encode, gen, x, mask=torch.full((32, 32), float("nan")), progress=False)
    empty = torch.ones(2, 32, 32)
    empty[1] = 0
    _raises(InvalidValueError, "[1]", encode, gen, x, mask=empty, progress=False)


def test_exported_from_the_package():
    assert ll.encode is encode and ll.EncodeResult is EncodeResult


# -- properties of the loss -----------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.sampled_from([4, 8, 16, 32]), soft=st.booleans())
def test_data_loss_ignores_masked_pixels_and_is_zero_only_on_a_match(seed, size, soft):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.rand(2, 3, size, size, generator=g), torch.rand(2, 3, size, size, generator=g)
    m = torch.rand(2, 1, size, size, generator=g)
    m = m if soft else (m > 0.5).float()
    m[:, :, 0, 0] = 1  # at least one observed pixel
    other = torch.where(m > 0, y, torch.rand(2, 3, size, size, generator=g))
    torch.testing.assert_close(_data_loss(x, y, m), _data_loss(x, other, m))
    assert bool((_data_loss(x, y, m) > 0).all())
    assert bool((_data_loss(y, y, m) == 0).all())


def test_a_decoder_returning_the_wrong_shape_is_a_clear_error(gen, targets):
    class Cropped(Wrapped):
        def decode_differentiable(self, latents, space=None):
            return super().decode_differentiable(latents, space)[..., :16, :16]

    _raises(ShapeError, "(1, 3, 16, 16)", encode, Cropped(gen), targets[:1], "optimize", progress=False)
