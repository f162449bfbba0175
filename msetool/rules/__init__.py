"""Validation rules: pure checks from the segment model and box/element trees to findings."""
