"""The local stand-in for Firehose: the `events` stream delivered into the on-disk raw zone."""
