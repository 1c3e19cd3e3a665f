"""Charts of a statistics report, drawn by pygal as SVG images.

The page shows each chart as an ``<img>`` with a text alternative and the same numbers
in a table beside it, so nobody depends on the picture. pygal's tooltips need
JavaScript, which an image never runs, so none is linked (``js=[]``) and its inline
configuration script is taken out; the SVG carries its own styles, which its response's
Content-Security-Policy allows (see views).
"""

from __future__ import annotations

import pygal
from flask_babel import gettext as _
from lxml import etree
from pygal.style import Style

from frikomport.statistics.report import Report
from frikomport.templating import short_month

# The portal's own dark blue and a grey-blue with enough contrast on white (WCAG 1.4.11).
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1e2b3c",
    foreground_strong="#1e2b3c", foreground_subtle="#5b6778",
    colors=("#0a4ea6", "#7a8ca6"), font_family="system-ui, sans-serif",
    label_font_size=13, major_label_font_size=13, legend_font_size=14, title_font_size=16,
    value_font_size=12)
CHARTS = ("attendance", "no-shows")


def _options(**extra) -> dict:
    return dict(style=STYLE, js=[], width=800, height=420, legend_at_bottom=True,
                print_values=False, show_y_guides=True, truncate_label=-1, **extra)


def attendance_by_month(report: Report) -> bytes:
    """Attended per month, beside the same month a year earlier."""
    now = [figures.attended for _month, figures, _before in report.months]
    before = [figures.attended for _month, _now, figures in report.months]
    chart = pygal.Bar(**_options(x_label_rotation=-40, y_labels=_whole_numbers(now + before),
                                 value_formatter=lambda v: f"{v:.0f}"))
    chart.title = _("Attended per month")
    chart.x_labels = [short_month(month) for month, _now, _before in report.months]
    chart.add(_("This period"), now)
    chart.add(_("A year earlier"), before)
    return _svg(chart)


def _whole_numbers(values: list[int], steps: int = 5) -> list[int]:
    """About ``steps`` whole-number ticks from 0 to at least the largest value (pygal's
    own ticks are fractions when the counts are small)."""
    step = max(1, -(-max(values, default=0) // steps))
    return list(range(0, step * steps + 1, step))


def no_show_rate_by_category(report: Report) -> bytes:
    """The share of no-shows among marked attendances, per category."""
    marked = [(name, figures.no_show_rate) for name, figures in report.by_category
              if figures.no_show_rate is not None]
    chart = pygal.HorizontalBar(**_options(show_legend=False, range=(0, 100),
                                           value_formatter=lambda v: f"{v:.0f} %"))
    chart.title = _("No-show rate per category (%)")
    chart.x_labels = [name for name, _rate in marked]
    chart.add(_("No-show rate"), [round(rate * 100, 1) for _name, rate in marked])
    return _svg(chart)


def _svg(chart) -> bytes:
    tree = chart.render_tree()
    for script in list(tree.iter("script", "{http://www.w3.org/2000/svg}script")):
        script.getparent().remove(script)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def render(name: str, report: Report) -> bytes:
    return (attendance_by_month if name == "attendance" else no_show_rate_by_category)(report)
