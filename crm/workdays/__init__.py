"""The Swedish working-day clock: response targets in working days, and the admin's closure days."""
