pytest_plugins = ["opsdesk_devstack.pytest_plugin"]

# Every service in a test verifies internal tokens with this process's test key pair (see internal_auth_testing).
from opsdesk_shared.internal_auth_testing import test_keypair  # noqa: E402

test_keypair()
