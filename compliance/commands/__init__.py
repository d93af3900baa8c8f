"""One module per mlperf-compliance command, each with one public function."""
