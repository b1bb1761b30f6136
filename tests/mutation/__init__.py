"""The mutation check: every method's known-answer tests must fail on plausible wrong versions of it."""
