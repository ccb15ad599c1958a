"""Spatial video: dynamic 3D Gaussians fitted to the frame matrix, rendered along any camera path.

Modules: :mod:`~s2vg.spatial.rasterize` (differentiable rasteriser, PyTorch and gsplat),
:mod:`~s2vg.spatial.gaussians` (parameters, initialisation, .ply), :mod:`~s2vg.spatial.deformation`
(the deformation field), :mod:`~s2vg.spatial.fit` (the optimisation), :mod:`~s2vg.spatial.scene`
(a fitted scene and its folder), :mod:`~s2vg.spatial.motion` (scene flow that seeds the
Gaussians' velocities), :mod:`~s2vg.spatial.paths` (camera paths),
:mod:`~s2vg.spatial.render` (rendering a path to video) and :mod:`~s2vg.spatial.api` (the jobs).

Importing this package imports torch but neither gsplat nor any CUDA code.
"""
