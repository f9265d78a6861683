"""The container tests: the image built and run by a real Docker engine (skipped, saying
why, when none answers)."""
