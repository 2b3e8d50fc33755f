"""The notebook cell of a million-point map, shared by ``bench_map_widget`` and ``tests/test_browser_map_million.py``.

12 clusters of digits latents, mapped with PCA fitted on 20k of them, then every point
transformed and shown in a :class:`latentlab.MapWidget`.
"""

from __future__ import annotations


def million_map_cell(n: int, name: str = "widget", density_above: int | None = None, xy_file: str | None = None) -> str:
    """The cell's source: ``n`` points in a widget called ``name``; optionally save the map positions.

    Args:
        n: points on the map.
        name: the widget's variable (the cell's last line shows it).
        density_above: ``MapWidget(density_above=)``; ``None`` keeps the widget's default.
        xy_file: ``np.save`` the map positions there (the browser test compares them with the page).

    Example:
        >>> print(million_map_cell(10).splitlines()[2])
        N = 10
    """
    above = "" if density_above is None else f", density_above={density_above}"
    save = "" if xy_file is None else f'np.save("{xy_file}", xy)\n'
    return f"""import numpy as np, torch
import latentlab as ll
N = {n}
gen = ll.load("digits")
g = torch.Generator().manual_seed(0)
centres = gen.sample(12, seed=1)
cluster = torch.randint(0, 12, (N,), generator=g)
z = centres[cluster] + 0.45 * torch.randn(N, 16, generator=g)
latent_map = ll.LatentMap(method="pca").fit(z[:20_000])
xy = latent_map.transform(z)
{save}{name} = ll.MapWidget(latent_map, gen, points=xy, latents=z, color_by=cluster.numpy(){above})
{name}"""
