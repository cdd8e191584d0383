"""The agent workspace: the work queue, the customer 360 and the actions of a call."""
