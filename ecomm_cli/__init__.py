"""ecomm: eCommerce clickstream analytics platform on AWS, with a local mode."""

__version__ = "0.1.0"
