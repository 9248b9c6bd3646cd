pytest_plugins = ["opsdesk_devstack.pytest_plugin"]
