"""Fakes of the outside world for tests: real programs where that is cheap."""
