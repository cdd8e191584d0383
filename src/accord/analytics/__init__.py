"""Read-only questions about the portfolio, answered with aggregate SQL."""
