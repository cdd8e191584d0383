"""The manager view: the portfolio by bucket, the latest run's treatments and the KPIs."""
