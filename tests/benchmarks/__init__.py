"""`make bench`: speed measured, apart from the tests (run.py says how)."""
