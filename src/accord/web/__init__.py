"""Entry points over HTTP: the API, the agent workspace, the portal and the manager view."""
