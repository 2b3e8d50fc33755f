"""``ll.from_stylegan`` on a tiny network with the NVlabs interface (tests/_tiny_stylegan.py)."""

from __future__ import annotations

import importlib
import importlib.util
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import latentlab as ll
from latentlab import directions
from latentlab.generators.stylegan import StyleGANGenerator

from ._tiny_stylegan import FullyConnectedLayer
from ._tiny_stylegan import Generator as TinyG


def reference_images(net: TinyG, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
    """What NVlabs' own call gives, mapped from [-1, 1] to [0, 1]."""
    with torch.no_grad():
        return ((net.synthesis(ws, noise_mode=noise_mode) + 1) / 2).clamp(0, 1)


@pytest.fixture(scope="module")
def net() -> TinyG:
    return TinyG(z_dim=8, w_dim=12, img_resolution=16)


@pytest.fixture
def gen(net: TinyG) -> StyleGANGenerator:
    return ll.from_stylegan(net, name="tiny-sg")


def test_spaces_shapes_and_num_ws_from_network(gen: StyleGANGenerator) -> None:
    assert [(s.name, s.shape, s.prior) for s in gen.spaces] == [
        ("w", (12,), "none"),
        ("w+", (4, 12), "none"),
        ("z", (8,), "normal"),
    ]
    assert gen.image_size == (16, 16) and gen.num_ws == 4
    sg3_like = ll.from_stylegan(TinyG(z_dim=8, w_dim=12, img_resolution=16, extra=12))
    assert sg3_like.num_ws == 16 and sg3_like.space("w+").shape == (16, 12)
    assert sg3_like.decode(sg3_like.sample(2, seed=0, space="w+"), space="w+").shape == (2, 3, 16, 16)


def test_sample_in_each_space_is_seeded_and_mapped(gen: StyleGANGenerator, net: TinyG) -> None:
    z = gen.sample(5, seed=3, space="z")
    w = gen.sample(5, seed=3)
    wp = gen.sample(5, seed=3, space="w+")
    assert z.shape == (5, 8) and w.shape == (5, 12) and wp.shape == (5, 4, 12)
    with torch.no_grad():
        expected = net.mapping(z, torch.zeros(5, 0))
    assert torch.allclose(w, expected[:, 0], atol=1e-6)
    assert torch.allclose(wp, expected, atol=1e-6)
    assert torch.equal(gen.sample(5, seed=3), w)
    assert not torch.equal(gen.sample(5, seed=4), w)


def test_decode_matches_the_nvlabs_call_in_every_space(gen: StyleGANGenerator, net: TinyG) -> None:
    z = gen.sample(3, seed=0, space="z")
    with torch.no_grad():
        ws = net.mapping(z, torch.zeros(3, 0))
    ref = reference_images(net, ws)
    assert torch.allclose(gen.decode(z, space="z"), ref, atol=1e-5)
    assert torch.allclose(gen.decode(ws[:, 0]), ref, atol=1e-5)
    assert torch.allclose(gen.decode(ws, space="w+"), ref, atol=1e-5)
    img = gen.decode(ws[0, 0])
    assert img.shape == (3, 16, 16) and float(img.min()) >= 0 and float(img.max()) <= 1 and float(img.std()) > 0.01


def test_truncation_pulls_towards_w_avg(net: TinyG) -> None:
    w_avg = net.mapping.w_avg
    far = ll.from_stylegan(net).sample(4, seed=1)
    for psi in (0.0, 0.5, 0.7):
        gen = ll.from_stylegan(net, truncation_psi=psi)
        w = gen.sample(4, seed=1)
        assert torch.allclose(w - w_avg, psi * (far - w_avg), atol=1e-5)
        assert torch.allclose(gen.truncate(far, psi=psi), w, atol=1e-5)
    assert torch.allclose(ll.from_stylegan(net, truncation_psi=0).sample(2, seed=0), w_avg.expand(2, -1))
    # the cutoff moves only the first rows of w+, as NVlabs' mapping(truncation_cutoff=...) does
    gen = ll.from_stylegan(net, truncation_psi=0.5, truncation_cutoff=2)
    z = gen.sample(3, seed=2, space="z")
    wp = gen.map(z, "z", "w+")
    with torch.no_grad():
        expected = net.mapping(z, torch.zeros(3, 0), truncation_psi=0.5, truncation_cutoff=2)
    assert torch.allclose(wp, expected, atol=1e-6)
    assert torch.allclose(gen.decode(z, space="z"), reference_images(net, expected), atol=1e-5)


def test_truncate_refuses_z(gen: StyleGANGenerator) -> None:
    with pytest.raises(ll.IncompatibleLatentError, match="W and W\\+ only"):
        gen.truncate(gen.sample(1, space="z"), space="z")


def test_map_directions(gen: StyleGANGenerator) -> None:
    w = gen.sample(2, seed=0)
    wp = gen.map(w, "w", "w+")
    assert wp.shape == (2, 4, 12) and torch.equal(wp[:, 3], w)
    with pytest.raises(ll.CapabilityError, match="only runs forwards"):
        gen.map(w, "w", "z")
    with pytest.raises(ll.CapabilityError):
        gen.map(wp, "w+", "w")


def test_noise_modes(net: TinyG) -> None:
    w = ll.from_stylegan(net).sample(2, seed=0)
    const = ll.from_stylegan(net, noise_mode="const")
    assert torch.equal(const.decode(w), const.decode(w))
    rand = ll.from_stylegan(net, noise_mode="random")
    assert not torch.equal(rand.decode(w), rand.decode(w))
    none = ll.from_stylegan(net, noise_mode="none")
    assert not torch.allclose(none.decode(w), const.decode(w))


def test_style_mixing_takes_rows_from_b(gen: StyleGANGenerator, net: TinyG) -> None:
    w = gen.sample(2, seed=5)
    mixed = gen.mix(w[0], w[1], layers=range(2, 4))
    assert mixed.shape == (4, 12)
    assert torch.equal(mixed[:2], w[0].expand(2, -1)) and torch.equal(mixed[2:], w[1].expand(2, -1))
    img = gen.decode(mixed, space="w+")
    assert not torch.allclose(img, gen.decode(w[0])) and not torch.allclose(img, gen.decode(w[1]))
    assert torch.allclose(img, reference_images(net, mixed[None])[0], atol=1e-5)
    # one latent against a batch, a slice, an index, and z inputs
    batch = gen.mix(w[0], gen.sample(3, seed=1), layers=slice(3, None))
    assert batch.shape == (3, 4, 12) and torch.equal(batch[:, :3], w[0].expand(3, 3, -1))
    assert torch.equal(gen.mix(w[0], w[1], layers=0)[0], w[1])
    z = gen.sample(2, seed=5, space="z")
    assert torch.allclose(gen.mix(z[0], z[1], layers=[2, 3], space="z"), mixed, atol=1e-6)


def test_style_mixing_errors(gen: StyleGANGenerator) -> None:
    w = gen.sample(3, seed=0)
    with pytest.raises(ll.InvalidValueError) as info:
        gen.mix(w[0], w[1], layers=range(2, 9))
    assert "[0, 4)" in str(info.value) and "fix:" in str(info.value)
    with pytest.raises(ll.IncompatibleLatentError, match="same size"):
        gen.mix(w, w[:2], layers=1)


def test_class_conditional_networks() -> None:
    cond = TinyG(z_dim=8, c_dim=3, w_dim=12, img_resolution=8, seed=1)
    gen = ll.from_stylegan(cond)
    with pytest.raises(ll.InvalidValueError) as info:
        gen.sample(2, seed=0)
    assert "class-conditional" in str(info.value) and "gen.c = " in str(info.value)
    gen.c = 1
    assert torch.equal(gen.c, torch.tensor([0.0, 1.0, 0.0]))
    w1 = gen.sample(2, seed=0)
    gen.c = 2
    w2 = gen.sample(2, seed=0)
    assert not torch.allclose(w1, w2)
    with torch.no_grad():
        expected = cond.mapping(gen.sample(2, seed=0, space="z"), torch.tensor([[0.0, 0, 1]] * 2))
    assert torch.allclose(w2, expected[:, 0], atol=1e-6)
    assert torch.allclose(ll.from_stylegan(cond, c=2).sample(2, seed=0), w2)
    with pytest.raises(ll.InvalidValueError, match="does not exist"):
        gen.c = 3
    with pytest.raises(ll.InvalidValueError, match="wrong size"):
        gen.c = torch.ones(4)
    with pytest.raises(ll.InvalidValueError, match="unconditional"):
        ll.from_stylegan(TinyG(img_resolution=8), c=0)


def test_not_a_stylegan() -> None:
    with pytest.raises(ll.InvalidValueError) as info:
        ll.from_stylegan(torch.nn.Linear(3, 3))
    assert "NVlabs StyleGAN interface" in str(info.value) and "from_module" in str(info.value)


def test_pickle_is_refused_without_trust_and_loads_with_it(tmp_path: Path, net: TinyG) -> None:
    path = tmp_path / "tiny.pkl"
    with open(path, "wb") as f:
        pickle.dump({"G": net, "G_ema": net, "D": None}, f)
    with pytest.raises(ll.UntrustedPickleError) as info:
        ll.from_stylegan(path)
    msg = str(info.value)
    assert "runs code" in msg and "trust=True" in msg and "tiny.pkl" in msg
    assert isinstance(info.value, PermissionError)
    gen = ll.from_stylegan(path, trust=True)
    assert gen.name == "tiny"
    w = gen.sample(2, seed=0)
    assert torch.allclose(gen.decode(w), ll.from_stylegan(net).decode(w), atol=1e-6)
    with pytest.raises(ll.InvalidValueError, match="no network 'G_avg'"):
        ll.from_stylegan(path, trust=True, key="G_avg")
    with pytest.raises(ll.InvalidValueError, match="no such StyleGAN pickle"):
        ll.from_stylegan(tmp_path / "missing.pkl", trust=True)


def _fake_nvlabs_checkout(root: Path) -> Path:
    """A folder shaped like an NVlabs checkout whose torch_utils imports pkg_resources, as StyleGAN3's does."""
    pkg = root / "stylegan3" / "torch_utils"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    source = (Path(__file__).parent / "_tiny_stylegan.py").read_text()
    future = "from __future__ import annotations\n"
    needs_pkg_resources = (
        future + "from pkg_resources import parse_version\nassert parse_version('1.11') > parse_version('1.9')\n"
    )
    (pkg / "tiny_networks.py").write_text(source.replace(future, needs_pkg_resources))
    (root / "stylegan3" / "dnnlib").mkdir()
    return root / "stylegan3"


def _forget(prefix: str) -> None:
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[name]


def test_pickle_needing_nvlabs_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = _fake_nvlabs_checkout(tmp_path)
    had_pkg_resources = importlib.util.find_spec("pkg_resources") is not None
    shim = type(sys)("pkg_resources")
    shim.parse_version = lambda v: tuple(int(p) for p in v.split("."))  # type: ignore[attr-defined]
    with monkeypatch.context() as m:  # build and pickle the network the way a user's NVlabs checkout would
        m.syspath_prepend(str(checkout))
        if not had_pkg_resources:
            m.setitem(sys.modules, "pkg_resources", shim)
        from torch_utils.tiny_networks import Generator as NvG  # type: ignore[import-not-found]

        path = tmp_path / "network-snapshot.pkl"
        with open(path, "wb") as f:
            pickle.dump({"G_ema": NvG(img_resolution=8)}, f)
    _forget("torch_utils")
    try:
        with pytest.raises(ll.MissingDependencyError) as info:
            ll.from_stylegan(path, trust=True)
        msg = str(info.value)
        assert "torch_utils" in msg and "not a pip package" in msg and "code_path=" in msg
        assert "github.com/NVlabs/stylegan3" in msg
        with pytest.raises(ll.InvalidValueError, match="not a NVlabs StyleGAN checkout"):
            ll.from_stylegan(path, trust=True, code_path=tmp_path)
        gen = ll.from_stylegan(path, trust=True, code_path=checkout)
        assert gen.decode(gen.sample(2, seed=0)).shape == (2, 3, 8, 8)
        assert str(checkout) not in sys.path  # the path was only added while unpickling
        if not had_pkg_resources:  # the parse_version shim was used, then removed again
            assert "pkg_resources" not in sys.modules
    finally:
        _forget("torch_utils")


def test_sefa_uses_the_modulation_weights(gen: StyleGANGenerator, net: TinyG) -> None:
    assert gen.can("sefa")
    assert gen.affine_layers() == ["layers.0.affine", "layers.1.affine", "layers.2.affine", "torgb.affine"]
    assert gen.affine_layers(style_only=True) == ["layers.0.affine", "layers.1.affine", "layers.2.affine"]
    weight = gen.sefa_weight(gen.space("w"))
    assert weight.shape == (3 * 16, 12)  # the synthesis layers' style modulations, not ToRGB (genforce/sefa)
    assert torch.allclose(weight[:16], net.synthesis.layers[0].affine.weight / 12**0.5)
    gen.sefa_layers = ["torgb.affine"]
    assert gen.sefa_weight(gen.space("w")).shape == (16, 12)
    gen.sefa_layers = ["nope"]
    with pytest.raises(ll.CapabilityError, match="affine_layers"):
        gen.sefa_weight(gen.space("w"))
    gen.sefa_layers = None
    with pytest.raises(ll.CapabilityError, match="live in W"):
        gen.sefa_weight(gen.space("w+"))
    found = directions.sefa(gen, n_components=3)
    w = gen.sample(2, seed=0)
    edited = found[0].apply(w, strength=3.0)
    assert edited.shape == (2, 12) and not torch.allclose(gen.decode(edited), gen.decode(w))


def test_works_with_slerp_pca_and_animation(gen: StyleGANGenerator, tmp_path: Path) -> None:
    w = gen.sample(2, seed=0)
    path = ll.lerp(w[0], w[1], steps=5)
    assert torch.allclose(path[0], w[0]) and torch.allclose(path[-1], w[1])
    assert gen.decode(path).shape == (5, 3, 16, 16)
    z = gen.sample(2, seed=0, space="z")
    zpath = ll.slerp(z[0], z[1], steps=5)
    assert gen.decode(zpath, space="z").shape == (5, 3, 16, 16)
    pcs = directions.pca(gen, n_samples=200, n_components=2, seed=0)
    assert pcs[0].space.name == "w"
    assert gen.decode(pcs[0].apply(w, strength=2.0)).shape == (2, 3, 16, 16)
    anim = ll.save_morph(gen, w, tmp_path / "morph.gif", fps=4, seconds=1, size=32, progress=False)
    assert (tmp_path / "morph.gif").stat().st_size > 0 and anim.size == (32, 32)


def test_float16_network_gives_float32_images(net: TinyG) -> None:
    half = TinyG(z_dim=8, w_dim=12, img_resolution=16).half()
    gen = ll.from_stylegan(half)
    w = gen.sample(2, seed=0)
    assert w.dtype == torch.float32
    img = gen.decode(w)
    assert img.dtype == torch.float32 and bool(torch.isfinite(img).all())
    assert torch.allclose(img, ll.from_stylegan(net).decode(w), atol=2e-2)  # same weights (seed 0), less precise


# ----------------------------------------------------------------------------- defects found with real NVlabs pickles
def test_class_labels_as_numpy_or_0d_tensor_are_indices_and_bools_are_refused() -> None:
    cond = ll.from_stylegan(TinyG(z_dim=8, c_dim=3, w_dim=12, img_resolution=8, seed=1), c=1)
    one_hot = cond.c.clone()
    for label in (np.int64(1), torch.tensor(1), np.array(1)):
        cond.c = label
        assert torch.equal(cond.c, one_hot), label
    for label in (True, np.bool_(False), torch.tensor(True)):
        with pytest.raises(ll.InvalidValueError, match="True or False"):
            cond.c = label


def test_sefa_leaves_out_the_input_and_torgb_affines_like_the_reference() -> None:
    net = TinyG(z_dim=8, w_dim=12, img_resolution=8)
    net.synthesis.input = torch.nn.Module()  # StyleGAN3's Fourier-feature input reads w through an affine too
    net.synthesis.input.affine = FullyConnectedLayer(12, 4)
    gen = ll.from_stylegan(net)
    assert "input.affine" in gen.affine_layers() and "torgb.affine" in gen.affine_layers()
    assert gen.affine_layers(style_only=True) == ["layers.0.affine", "layers.1.affine"]
    assert gen.sefa_weight(gen.space("w")).shape == (2 * 16, 12)
    gen.sefa_layers = gen.affine_layers()  # the old behaviour, still available on request
    assert gen.sefa_weight(gen.space("w")).shape == (2 * 16 + 4 + 16, 12)


def test_the_pkg_resources_stand_in_imports_packaging_only_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from latentlab.generators import stylegan

    monkeypatch.setitem(sys.modules, "packaging", None)
    monkeypatch.setitem(sys.modules, "packaging.version", None)
    shim = stylegan._parse_version_shim()  # StyleGAN2-ADA pickles never call it: building it needs nothing
    with pytest.raises(ll.MissingDependencyError, match=r"latentlab\[stylegan\]"):
        shim.parse_version("1.9")


def test_missing_nvlabs_dependencies_name_the_stylegan_extra(tmp_path: Path) -> None:
    from latentlab.generators import stylegan

    err = stylegan._missing_module_error(
        ModuleNotFoundError("No module named 'requests'", name="requests"), tmp_path / "net.pkl"
    )
    assert 'pip install "latentlab[stylegan]"' in str(err)


def _checkout(root: Path, name: str, module: str, extra: str = "") -> Path:
    """A folder shaped like an NVlabs checkout whose torch_utils holds a network module ``module``."""
    pkg = root / name / "torch_utils"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (root / name / "dnnlib").mkdir()
    (pkg / f"{module}.py").write_text((Path(__file__).parent / "_tiny_stylegan.py").read_text() + extra)
    return root / name


def test_a_second_code_path_is_not_shadowed_by_the_first_checkout(tmp_path: Path) -> None:
    ada = _checkout(tmp_path, "stylegan2-ada-pytorch", "ada_networks")
    sg3 = _checkout(tmp_path, "stylegan3", "sg3_networks")  # a module only the second checkout has
    pickles = {}
    for folder, module in ((ada, "ada_networks"), (sg3, "sg3_networks")):
        sys.path.insert(0, str(folder))
        try:
            network = importlib.import_module(f"torch_utils.{module}").Generator(img_resolution=8)
            pickles[module] = tmp_path / f"{module}.pkl"
            pickles[module].write_bytes(pickle.dumps({"G_ema": network}))
        finally:
            sys.path.remove(str(folder))
            _forget("torch_utils")
    try:
        first = ll.from_stylegan(pickles["ada_networks"], trust=True, code_path=ada)
        second = ll.from_stylegan(pickles["sg3_networks"], trust=True, code_path=sg3)
        assert type(second.network).__module__ == "torch_utils.sg3_networks"
        for gen in (first, second):  # the first network keeps working after the second checkout is loaded
            assert gen.decode(gen.sample(1, seed=0)).shape == (1, 3, 8, 8)
    finally:
        _forget("torch_utils")
        _forget("dnnlib")
