"""The Kundoluk simulator: a school, its teachers' year of activity, the events sent."""
