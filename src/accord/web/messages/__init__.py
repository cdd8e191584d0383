"""What customers received: the outbox, the demo mailbox, SMS and letters."""
