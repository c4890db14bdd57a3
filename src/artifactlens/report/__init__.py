"""Rendering: inline SVG plots and the self-contained HTML report."""
from .html import render_report, render_section, write_report

__all__ = ["render_report", "render_section", "write_report"]
