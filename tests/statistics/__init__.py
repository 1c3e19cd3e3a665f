"""Statistics (issue 13): the figures of the statistics page held to brute-force counts."""
