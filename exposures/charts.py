"""Horizontal bar charts drawn on the server as SVG (templates/exposures/includes/bar_chart.html):
geometry here, markup in the template, colours in static/css/portal.css (the Content-Security-
Policy allows no inline style). Each chart has a <title> and a <desc> and is followed by its data
as a table, for screen readers and for anyone who wants the numbers."""

from dataclasses import dataclass, field

LABEL_W = 130  # the bars' labels (case references)
BAR_W = 440  # the longest bar
ROW_H = 26
TOP = 8
AXIS_H = 44
TICKS = 4


@dataclass
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown ("3.5 days", "—")
    y: int = 0
    width: int = 0


@dataclass
class Chart:
    key: str
    title: str
    description: str
    axis_label: str
    unit: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[str, int]] = field(default_factory=list)
    height: int = 0
    axis_y: int = 0
    label_w: int = LABEL_W
    bar_w: int = BAR_W
    value_x: int = LABEL_W + BAR_W + 8
    width: int = LABEL_W + BAR_W + 110

    @property
    def has_values(self) -> bool:
        return any(bar.value is not None for bar in self.bars)


def _nice_max(value: float) -> float:
    """The axis' end: 1, 2, 2.5 or 5 times a power of ten, at or above `value`."""
    if value <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 < value:
        scale *= 10
    while scale > value:
        scale /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def _tick_text(value: float) -> str:
    return f"{value:g}"


def bar_chart(*, key: str, title: str, description: str, axis_label: str, unit: str,
              rows: list[tuple[str, float | None]], maximum: float | None = None) -> Chart:
    """One bar per (label, value); a missing value draws no bar and reads "—"."""
    chart = Chart(key=key, title=title, description=description, axis_label=axis_label,
                  unit=unit)
    top = maximum or _nice_max(max((v for _, v in rows if v is not None), default=0))
    for index, (label, value) in enumerate(rows):
        width = 0 if value is None else max(1, round(BAR_W * min(max(value, 0), top) / top))
        text = "—" if value is None else f"{value:g} {unit}".strip()
        chart.bars.append(Bar(label=label, value=value, text=text, y=TOP + index * ROW_H,
                              width=width))
    chart.axis_y = TOP + len(rows) * ROW_H + 4
    chart.height = chart.axis_y + AXIS_H
    chart.ticks = [(_tick_text(top * i / TICKS), LABEL_W + round(BAR_W * i / TICKS))
                   for i in range(TICKS + 1)]
    return chart
