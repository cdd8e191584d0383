"""The read side: portfolio figures, queues, dashboards and reports; never writes."""
