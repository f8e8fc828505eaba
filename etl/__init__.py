"""credit-etl: collects, checks and loads a city's public credit information."""

__version__ = "0.1.0"
