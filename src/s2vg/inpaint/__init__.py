"""Inpainters that fill the disoccluded pixels of a frame matrix."""

from s2vg.inpaint.base import Inpainter, available_inpainters, get_inpainter, register_inpainter

__all__ = ["Inpainter", "available_inpainters", "get_inpainter", "register_inpainter"]
