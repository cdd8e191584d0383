"""The customer self-service portal: sign in with a one-time code, see, promise, plan, prefer."""
