from decimal import Decimal

import pytest

from core import charts


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    assert charts.nice_ticks(Decimal(0), Decimal(100)) == [Decimal(n) for n in (0, 25, 50, 75, 100)]
    assert charts.nice_ticks(Decimal(45), Decimal(75)) == [Decimal(n) for n in (40, 50, 60, 70, 80)]
    assert charts.nice_ticks(Decimal("4.2"), Decimal("4.7")) == [
        Decimal("4.2"),
        Decimal("4.4"),
        Decimal("4.6"),
        Decimal("4.8"),
    ]
    assert charts.nice_ticks(Decimal("99.5"), Decimal("99.95")) == [
        Decimal("99.4"),
        Decimal("99.6"),
        Decimal("99.8"),
        Decimal("100"),
    ]


def test_nice_ticks_of_a_single_value_spread_around_it_and_never_show_minus_zero() -> None:
    assert charts.nice_ticks(Decimal(60), Decimal(60)) == [Decimal(n) for n in (50, 55, 60, 65, 70)]
    assert charts.nice_ticks(Decimal(0), Decimal(0)) == [Decimal(n) for n in ("-1", "-0.5", "0", "0.5", "1")]
    assert str(charts.nice_ticks(Decimal("-0.5"), Decimal("0.5"))[2]) == "0"


def test_nice_ticks_of_counts_step_by_whole_numbers() -> None:
    assert charts.nice_ticks(Decimal(0), Decimal(1)) == [Decimal(n) for n in ("0", "0.25", "0.5", "0.75", "1")]
    assert charts.nice_ticks(Decimal(0), Decimal(1), integers=True) == [Decimal(0), Decimal(1)]
    assert charts.nice_ticks(Decimal(0), Decimal(10), integers=True) == [Decimal(n) for n in (0, 5, 10)]
    assert charts.nice_ticks(Decimal(0), Decimal(3), integers=True) == [Decimal(n) for n in (0, 1, 2, 3)]
    chart = charts.bar_chart(labels=["5★", "4★"], values=[Decimal(0), Decimal(1)], integers=True)
    assert [tick.label for tick in chart.y_ticks] == ["0", "1"]


def test_nice_ticks_need_two_ticks() -> None:
    with pytest.raises(ValueError, match="two ticks"):
        charts.nice_ticks(Decimal(0), Decimal(1), count=1)


def test_format_number_drops_trailing_zeros_and_groups_thousands() -> None:
    assert [charts.format_number(Decimal(v)) for v in ("12000.00", "4.50", "0E-2", "99.95", "-1.0")] == [
        "12,000",
        "4.5",
        "0",
        "99.95",
        "-1",
    ]


def test_line_chart_places_points_in_bands_and_breaks_the_line_at_gaps() -> None:
    chart = charts.line_chart(
        labels=["Jan", "Feb", "Mar", "Apr"],
        values=[Decimal(50), None, Decimal(70), Decimal(80)],
        references=[("Target", Decimal(60), "target")],
        tones=["met", "empty", "breach", "breach"],
        width=452,
        height=232,
        margins=(52, 0, 16, 16),
    )

    # plot: x 52…452 (4 bands of 100), y 16…216; scale 50…80 (ticks of 10)
    assert [(p.x, p.y, p.tone) for p in chart.points] == [
        (102.0, 216.0, "met"),
        (202.0, None, "empty"),
        (302.0, 82.67, "breach"),
        (402.0, 16.0, "breach"),
    ]
    assert chart.path == "M102,216 M302,82.67 L402,16"
    assert (chart.minimum, chart.maximum) == (Decimal(50), Decimal(80))
    assert [(t.position, t.label) for t in chart.y_ticks] == [
        (216.0, "50"),
        (149.33, "60"),
        (82.67, "70"),
        (16.0, "80"),
    ]
    assert chart.references == (charts.ReferenceLine(y=149.33, value=Decimal(60), label="Target", kind="target"),)
    assert [t.label for t in chart.x_ticks] == ["Jan", "Feb", "Mar", "Apr"]
    assert chart.frame.view_box == "0 0 452 232"
    assert chart.has_values


def test_line_chart_keeps_reference_lines_inside_the_scale_and_can_include_zero() -> None:
    chart = charts.line_chart(
        labels=["Jan", "Feb"],
        values=[Decimal("99.9"), Decimal("99.95")],
        references=[("Target", Decimal("99.5"), "target")],
    )
    with_zero = charts.line_chart(labels=["Jan"], values=[Decimal(40)], include_zero=True)

    assert chart.minimum <= Decimal("99.5") and chart.maximum >= Decimal("99.95")
    assert chart.references[0].y <= chart.frame.plot_bottom
    assert with_zero.minimum == 0


def test_line_chart_without_values_has_an_empty_path() -> None:
    chart = charts.line_chart(labels=["Jan", "Feb"], values=[None, None])

    assert chart.path == ""
    assert not chart.has_values
    assert (chart.minimum, chart.maximum) == (Decimal(0), Decimal(1))


def test_many_categories_show_every_nth_label_ending_with_the_latest() -> None:
    labels = [f"W{n}" for n in range(1, 27)]

    chart = charts.line_chart(labels=labels, values=[Decimal(n) for n in range(26)], max_x_labels=12)

    assert [t.label for t in chart.x_ticks] == ["W2", "W5", "W8", "W11", "W14", "W17", "W20", "W23", "W26"]


def test_bar_chart_draws_from_zero_to_the_value_and_skips_missing_values() -> None:
    chart = charts.bar_chart(
        labels=["Jan", "Feb", "Mar"],
        values=[Decimal(100), None, Decimal("50.0")],
        maximum=Decimal(100),
        tones=["met", "empty", "breach"],
        width=352,
        height=216,
        margins=(52, 0, 16, 0),
        gap=0.5,
    )

    # plot: x 52…352 (3 bands of 100, bars 50 wide), y 16…216 for 0…100
    assert [(b.x, b.y, b.width, b.height, b.value, b.tone) for b in chart.bars] == [
        (77.0, 16.0, 50.0, 200.0, Decimal(100), "met"),
        (177.0, 216.0, 50.0, 0, None, "empty"),
        (277.0, 116.0, 50.0, 100.0, Decimal("50.0"), "breach"),
    ]
    assert [b.center for b in chart.bars] == [102.0, 202.0, 302.0]
    assert chart.baseline == 216.0
    assert chart.maximum == Decimal(100)
    assert [t.label for t in chart.y_ticks] == ["0", "25", "50", "75", "100"]


def test_bar_chart_of_money_scales_to_the_largest_value_and_handles_negatives() -> None:
    spend = charts.bar_chart(labels=["Jan", "Feb"], values=[Decimal("1234.56"), Decimal("8790.00")])
    refunds = charts.bar_chart(
        labels=["Jan", "Feb"], values=[Decimal(-50), Decimal(150)], height=216, margins=(52, 16, 16, 0)
    )

    assert spend.maximum == Decimal(10000)
    assert [t.label for t in spend.y_ticks][-1] == "10,000"
    negative, positive = refunds.bars
    assert negative.y == refunds.baseline and negative.height > 0
    assert positive.y + positive.height == refunds.baseline


def test_charts_refuse_mismatched_series() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        charts.line_chart(labels=["Jan"], values=[])
    with pytest.raises(ValueError, match="one tone per label"):
        charts.bar_chart(labels=["Jan"], values=[Decimal(1)], tones=[])
    with pytest.raises(ValueError, match="gap"):
        charts.bar_chart(labels=["Jan"], values=[Decimal(1)], gap=1.0)
