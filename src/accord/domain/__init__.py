"""Hold Accord's pure domain rules: money, arrears, contact points and time zones."""
