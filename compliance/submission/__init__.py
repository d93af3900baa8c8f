"""The submission tree as it is uploaded: the official truncation's facts (:mod:`compliance.submission.truncation`)
and the form of each file the tool writes there, with the other forms the official chain may leave of it
(:mod:`compliance.submission.upload`).

Layer: above :mod:`compliance.logs` (the truncation marker's one owner) and :mod:`compliance.layout`; below the
verifiers, review's pre-flight, the records and the pipeline. Pure: it reads files, never writes the tree.
"""
