"""The pipeline layer: doit tasks (:mod:`.tasks`) whose actions (:mod:`.actions`) run benchmarks through a launcher
(:mod:`.launch`), with audit.config placed and removed by its one owner (:mod:`.staging`) under the run locks
(:mod:`.locks`), and progress shown by :mod:`.reporter`.

Layer: the only one that starts processes or touches working directories; imports everything below it (plan,
records, status, verify, specs). Nothing below imports doit.
"""
