"""Chart geometry for server-rendered SVG: a line chart (optionally with horizontal reference lines such as a
target) and a bar chart, over a row of categories (months, weeks). Pure functions, no Django: a view turns its
series into a chart, the template draws it.

Values are Decimal and stay Decimal (ticks, labels, domain); only pixel coordinates are float, rounded to two
places so the SVG stays small and the output is stable for tests. Templates should draw inside
`{% localize off %}` so coordinates are never formatted for a locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


@dataclass(frozen=True)
class Frame:
    """The SVG canvas (`width` × `height`) and, inside it, the plot area left after the margins."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def plot_left(self) -> int:
        return self.left

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_top(self) -> int:
        return self.top

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


@dataclass(frozen=True)
class Tick:
    """An axis mark: `position` is y on the value axis, x on the category axis."""

    position: float
    label: str


@dataclass(frozen=True)
class LinePoint:
    x: float
    y: float | None  # None: no value for this category (the line breaks there)
    label: str
    value: Decimal | None
    tone: str  # the caller's classification ("met", "breach", …), used as a CSS class


@dataclass(frozen=True)
class ReferenceLine:
    y: float
    value: Decimal
    label: str
    kind: str  # the caller's name for it ("target", "stretch"), used as a CSS class


@dataclass(frozen=True)
class LineChart:
    frame: Frame
    points: tuple[LinePoint, ...]
    path: str  # SVG path data; each run of consecutive values is its own "M … L …" segment
    references: tuple[ReferenceLine, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    minimum: Decimal
    maximum: Decimal

    @property
    def has_values(self) -> bool:
        return any(point.value is not None for point in self.points)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: Decimal | None  # None: no bar for this category
    tone: str

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True)
class BarChart:
    frame: Frame
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    baseline: float  # y of the zero line
    maximum: Decimal

    @property
    def has_values(self) -> bool:
        return any(bar.value is not None for bar in self.bars)


def format_number(value: Decimal) -> str:
    """12000.00 → "12,000", 4.50 → "4.5", 0E-2 → "0": for axis labels, without an exponent."""
    normalized = value.normalize()
    if normalized == 0:
        return "0"
    return format(normalized, ",f")


def nice_ticks(low: Decimal, high: Decimal, *, count: int = 5, integers: bool = False) -> list[Decimal]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) from at or below `low` to at or above
    `high`, about `count` of them. `integers`: whole-number steps only (for counts: no "0.25 reviews")."""
    if count < 2:
        raise ValueError("A scale needs at least two ticks.")
    if low > high:
        low, high = high, low
    if low == high:
        spread = abs(low) / 10 if low else Decimal(1)
        low, high = low - spread, high + spread
    rough = (high - low) / (count - 1)
    magnitude = Decimal(1).scaleb(rough.adjusted())
    steps = [candidate * magnitude for candidate in NICE_STEPS]
    if integers:
        steps = [step for step in steps if step >= 1 and step == step.to_integral_value()] or [Decimal(1)]
    step = next((step for step in steps if step >= rough), steps[-1])
    start = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    end = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    ticks, current = [], start
    while current <= end:
        ticks.append(current if current else Decimal(0))  # never "-0"
        current += step
    return ticks


def _scale(value: Decimal, low: Decimal, high: Decimal, start: float, end: float) -> float:
    """Where `value` falls between pixel `start` (at `low`) and `end` (at `high`)."""
    ratio = float((value - low) / (high - low)) if high != low else 0.5
    return round(start + (end - start) * ratio, 2)


def _coordinate(pixel: float) -> str:
    return f"{pixel:.2f}".rstrip("0").rstrip(".")


def _band_centers(frame: Frame, count: int) -> list[float]:
    band = frame.plot_width / count if count else 0
    return [round(frame.plot_left + band * (index + 0.5), 2) for index in range(count)]


def _category_ticks(centers: Sequence[float], labels: Sequence[str], max_labels: int) -> tuple[Tick, ...]:
    """Every label when they fit; otherwise every n-th, always keeping the last (the most recent)."""
    if not labels:
        return ()
    every = max(1, -(-len(labels) // max_labels))
    last = len(labels) - 1
    keep = [index for index in range(len(labels)) if (last - index) % every == 0]
    return tuple(Tick(position=centers[index], label=labels[index]) for index in keep)


def _value_ticks(frame: Frame, ticks: Sequence[Decimal]) -> tuple[Tick, ...]:
    low, high = ticks[0], ticks[-1]
    return tuple(
        Tick(position=_scale(tick, low, high, frame.plot_bottom, frame.plot_top), label=format_number(tick))
        for tick in ticks
    )


def _check_lengths(labels: Sequence[str], values: Sequence[object], tones: Sequence[str] | None) -> list[str]:
    if len(values) != len(labels):
        raise ValueError("Give one value per label.")
    if tones is not None and len(tones) != len(labels):
        raise ValueError("Give one tone per label.")
    return list(tones) if tones is not None else [""] * len(labels)


def line_chart(
    *,
    labels: Sequence[str],
    values: Sequence[Decimal | None],
    references: Sequence[tuple[str, Decimal, str]] = (),
    tones: Sequence[str] | None = None,
    include_zero: bool = False,
    width: int = 640,
    height: int = 240,
    margins: tuple[int, int, int, int] = (52, 16, 16, 32),
    max_x_labels: int = 12,
    tick_count: int = 5,
) -> LineChart:
    """One value per category (None = nothing recorded). `references` are (label, value, kind) horizontal lines,
    always inside the scale. `margins` are (left, right, top, bottom) pixels for the axis labels."""
    point_tones = _check_lengths(labels, values, tones)
    left, right, top, bottom = margins
    frame = Frame(width=width, height=height, left=left, right=right, top=top, bottom=bottom)
    known = [value for value in values if value is not None] + [value for _label, value, _kind in references]
    if include_zero:
        known.append(Decimal(0))
    ticks = nice_ticks(min(known), max(known), count=tick_count) if known else nice_ticks(Decimal(0), Decimal(1))
    low, high = ticks[0], ticks[-1]
    centers = _band_centers(frame, len(labels))
    points = tuple(
        LinePoint(
            x=x,
            y=None if value is None else _scale(value, low, high, frame.plot_bottom, frame.plot_top),
            label=label,
            value=value,
            tone=tone,
        )
        for x, label, value, tone in zip(centers, labels, values, point_tones, strict=True)
    )
    commands, previous_missing = [], True
    for point in points:
        if point.y is None:
            previous_missing = True
            continue
        commands.append(f"{'M' if previous_missing else 'L'}{_coordinate(point.x)},{_coordinate(point.y)}")
        previous_missing = False
    return LineChart(
        frame=frame,
        points=points,
        path=" ".join(commands),
        references=tuple(
            ReferenceLine(
                y=_scale(value, low, high, frame.plot_bottom, frame.plot_top), value=value, label=label, kind=kind
            )
            for label, value, kind in references
        ),
        y_ticks=_value_ticks(frame, ticks),
        x_ticks=_category_ticks(centers, labels, max_x_labels),
        minimum=low,
        maximum=high,
    )


def bar_chart(
    *,
    labels: Sequence[str],
    values: Sequence[Decimal | None],
    maximum: Decimal | None = None,
    tones: Sequence[str] | None = None,
    width: int = 640,
    height: int = 200,
    margins: tuple[int, int, int, int] = (52, 16, 16, 32),
    gap: float = 0.3,
    max_x_labels: int = 12,
    tick_count: int = 5,
    integers: bool = False,
) -> BarChart:
    """One bar per category, from zero (None = no bar). The scale runs from zero (or the lowest negative value)
    to `maximum` (e.g. 100 for percentages) or the largest value. `gap` is the share of each band left empty.
    `integers`: whole-number ticks (counts)."""
    bar_tones = _check_lengths(labels, values, tones)
    if not 0 <= gap < 1:
        raise ValueError("The gap is a share of the band, from 0 to below 1.")
    left, right, top, bottom = margins
    frame = Frame(width=width, height=height, left=left, right=right, top=top, bottom=bottom)
    known = [value for value in values if value is not None] + [Decimal(0)]
    if maximum is not None:
        known.append(maximum)
    low_value, high_value = min(known), max(known)
    if low_value == high_value:  # every value is zero
        high_value = Decimal(1)
    ticks = nice_ticks(low_value, high_value, count=tick_count, integers=integers)
    low, high = ticks[0], ticks[-1]
    baseline = _scale(Decimal(0), low, high, frame.plot_bottom, frame.plot_top)
    band = frame.plot_width / len(labels) if labels else 0
    bar_width = round(band * (1 - gap), 2)
    bars = []
    for index, (label, value, tone) in enumerate(zip(labels, values, bar_tones, strict=True)):
        x = round(frame.plot_left + band * index + (band - bar_width) / 2, 2)
        if value is None:
            bars.append(Bar(x=x, y=baseline, width=bar_width, height=0, label=label, value=None, tone=tone))
            continue
        top_y = _scale(value, low, high, frame.plot_bottom, frame.plot_top)
        bars.append(
            Bar(
                x=x,
                y=min(top_y, baseline),
                width=bar_width,
                height=round(abs(baseline - top_y), 2),
                label=label,
                value=value,
                tone=tone,
            )
        )
    return BarChart(
        frame=frame,
        bars=tuple(bars),
        y_ticks=_value_ticks(frame, ticks),
        x_ticks=_category_ticks(_band_centers(frame, len(labels)), labels, max_x_labels),
        baseline=baseline,
        maximum=high,
    )
