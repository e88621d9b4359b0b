"""`ecomm demo`: the whole platform end to end on this machine."""
