from tests.fakes.provider_server import provider_server  # noqa: F401
