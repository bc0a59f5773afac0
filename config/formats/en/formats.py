"""Dates as the product writes them everywhere: "22 Nov 2026", "22 Nov 2026, 14:30" (a 24-hour clock, day
first, for clients, freelancers and vendors in many countries). Only output formats change: forms still take ISO
dates first, as <input type="date"> sends them."""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
