"""`ecomm alerts`: offenders the real-time channel found, and the platform's alarm states."""
