"""AICC Simulator: the AICC side of Huawei Cloud CEC's web-chat channel, for tests."""

__all__ = ["__version__"]

__version__ = "0.1.0"
