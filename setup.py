"""Build the optional compiled scanner; everything else about the package is in pyproject.toml.

``optional=True``: without a C compiler the install goes on and compliance.logs.scan uses its regex scanner instead
(same results, slower on huge accuracy logs: docs/performance.md).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[Extension("compliance.logs._scan", ["compliance/logs/_scan.c"], optional=True)],
    # build/ holds the pipeline's files (build/<system>, build/work, build/submission-v5.0 ...): keep setuptools' apart
    options={"build": {"build_base": "build/setuptools"}},
)
