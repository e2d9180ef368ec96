"""Background jobs: a transactional outbox, its relay, and the handlers that send mail."""
