"""Test tools shipped with sdd-build: a scriptable fake device behind the engine's driver
protocol (``sdd_build.testing.fake``). For the engine's own logic only; device behaviour is
tested against real routers."""
