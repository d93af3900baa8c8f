"""A demo system under test on real LoadGen: synthetic, deterministic outputs; no accelerator needed."""
