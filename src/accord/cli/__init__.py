"""The ``accord`` command: thin operator commands over the use cases."""
