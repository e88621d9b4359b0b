"""Local stand-ins of the real-time side: the Lambda event source mapping runner."""
