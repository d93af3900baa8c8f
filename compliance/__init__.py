"""mlperf-compliance: run and verify the MLPerf Inference compliance tests as a declarative doit build."""

__version__ = "0.1.0"
